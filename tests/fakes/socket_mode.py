"""A fake Slack Socket Mode server: the WebSocket that `apps.connections.open` hands out.

Point the fake Web API at it (`fake_slack.socket_mode_url = fake.url`); the bot connects, gets
Slack's `hello`, and the test sends envelopes as Slack would:

    {"envelope_id", "type": "slash_commands" | "interactive" | "events_api", "payload",
     "accepts_response_payload", "retry_attempt", "retry_reason"}

Every acknowledgement (`{"envelope_id", "payload"?}`) is recorded. `drop()` aborts the open
connections as a network failure would; `go_silent()` keeps them open but stops answering pings
and sending anything, as a half-open connection does. Runs on its own loop in a thread.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import ThreadedServer, bind_loopback
from tests.fakes.slack_workspace import APP_ID


@dataclass
class Connection:
    ws: web.WebSocketResponse
    opened_at: float = field(default_factory=time.monotonic)
    pings: int = 0
    silent: bool = False  # answers nothing, pings included


class FakeSocketMode:
    """`with FakeSocketMode() as fake:` serves `fake.url` (ws://127.0.0.1:PORT/link)."""

    def __init__(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._server = ThreadedServer(app, [bind_loopback()])
        self._changed = threading.Condition()
        self.connections: list[Connection] = []
        self.acks: list[dict[str, Any]] = []

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.address(0)
        return f"ws://{host}:{port}/link"

    def __enter__(self) -> FakeSocketMode:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    # -- what the test does ---------------------------------------------------------------
    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send an envelope on the newest open connection; returns its envelope_id."""
        envelope_id = envelope_id or uuid.uuid4().hex
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        ws = self.open_connections()[-1].ws
        self._server.call(ws.send_str(json.dumps(envelope)))
        return envelope_id

    def drop(self) -> None:
        """Abort every open connection (no close frame), as a network failure does."""
        for conn in self.open_connections():
            self._server.call(self._abort(conn.ws))

    def go_silent(self) -> None:
        """Keep the open connections open but answer nothing on them: pings go unanswered."""
        for conn in self.open_connections():
            conn.silent = True

    def open_connections(self) -> list[Connection]:
        with self._changed:
            return [c for c in self.connections if not c.ws.closed]

    def wait_for_connections(self, count: int, timeout: float = 20.0) -> list[Connection]:
        """Wait until `count` connections were made in all (open or not)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"{len(self.connections)} of {count} connections made")
            return list(self.connections)

    def acks_for(self, envelope_id: str) -> list[dict[str, Any]]:
        with self._changed:
            return [a for a in self.acks if a.get("envelope_id") == envelope_id]

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: self.acks_for(envelope_id), timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged")
            return self.acks_for(envelope_id)[0]

    # -- the server -------------------------------------------------------------------------
    @staticmethod
    async def _abort(ws: web.WebSocketResponse) -> None:
        transport = ws._req.transport if ws._req is not None else None
        if transport is not None:
            transport.abort()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        conn = Connection(ws)
        with self._changed:
            self.connections.append(conn)
            self._changed.notify_all()
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.open_connections()),
                    "debug_info": {"host": "fake-socket-mode"},
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        async for message in ws:
            if conn.silent:
                continue
            if message.type == WSMsgType.PING:
                conn.pings += 1
                await ws.pong(message.data)
            elif message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                with self._changed:
                    self.acks.append(ack)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()
        return ws
