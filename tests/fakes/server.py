"""Run an aiohttp application on loopback in a thread with its own event loop.

The fakes must keep answering while a test's own event loop is blocked or busy, and must
outlive (or predate) that loop, so each one gets a private loop in a daemon thread. Sockets
are bound before the thread starts: the port is known at once, and a clash fails loudly here.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from typing import Any

from aiohttp import web


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on an ephemeral port of `host`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    sock.listen(512)
    sock.setblocking(False)
    return sock


class ThreadedServer:
    """`start()` serves `app` on every socket; `stop()` shuts it down for good (sockets close)."""

    def __init__(self, app: web.Application, sockets: Sequence[socket.socket]) -> None:
        self._app = app
        self._sockets = list(sockets)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def address(self, index: int = 0) -> tuple[str, int]:
        host, port = self._sockets[index].getsockname()[:2]
        return host, port

    def call(self, coro: Any, timeout: float = 10) -> Any:
        """Run a coroutine on the server's own loop (from any other thread); its result."""
        assert self._loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="fake-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("fake server failed to start") from self._error

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        # A short shutdown timeout: a test may stop a fake while it is stalling a request.
        runner = web.AppRunner(
            self._app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        try:
            loop.run_until_complete(runner.setup())
            for sock in self._sockets:
                loop.run_until_complete(web.SockSite(runner, sock).start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None
