"""Socket Mode: Slack's requests over a WebSocket the bot opens, no public URL needed.

Bolt's AsyncSocketModeHandler runs slack_sdk's aiohttp client, which pings the server every
`ping_interval` and reconnects when a connection closes or stops answering. A watchdog beside it
replaces a connection that has not been healthy for several intervals whatever the reason (the
client's own monitor can die with the connection it watched), so a silent or half-open socket
never leaves the bot deaf for long.

On SIGTERM or SIGINT the WebSocket is closed first (Slack sends new envelopes to another
connection, and redelivers those not acknowledged), then the work already acknowledged is
finished (up to FINISH_SECONDS), then every client is closed; the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import metrics
from bot.runtime import Runtime
from bot.server import finish_acked_work

log = logging.getLogger("altegio.bot")

# A connection unhealthy for this many ping intervals is replaced by the watchdog.
STALE_INTERVALS = 3
RECONNECT_SECONDS = 30.0


async def run_socket_mode(
    runtime: Runtime,
    app_token: str,
    *,
    ping_interval: float,
    finish_seconds: float,
    stop: asyncio.Event | None = None,
    pages_address: tuple[str, int] | None = None,
) -> None:
    """Serve Slack over Socket Mode until a signal (or `stop`), then finish and close.

    A distributed app's install pages are web pages even so: they are served on
    `pages_address` (host, port) beside the socket."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    handler = CountingHandler(runtime.app, app_token, ping_interval=ping_interval)
    client: SocketModeClient = handler.client
    watchdog: asyncio.Task[None] | None = None
    pages: asyncio.Task[None] | None = None
    routes = runtime.install_routes()
    try:
        if routes and pages_address is not None:
            from bot.oauth import serve_pages

            host, port = pages_address
            pages = asyncio.ensure_future(serve_pages(routes, host=host, port=port, stop=stop))
        await handler.connect_async()
        log.info("connected to Slack in Socket Mode")
        watchdog = asyncio.ensure_future(watch_connection(client, ping_interval))
        await stop.wait()
        log.info("stopping: closing the Socket Mode connection")
    finally:
        if pages is not None:
            stop.set()
            with contextlib.suppress(Exception):
                await pages
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        await client.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    await runtime.stop_housekeeping()
    await finish_acked_work(finish_seconds)


class CountingHandler(AsyncSocketModeHandler):
    """Bolt's handler, counting each envelope's acknowledgement in the ack metrics as `serve`
    counts each request's. `handle`, Bolt's hook for one envelope, returns once it is acked."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        received = time.perf_counter()
        await super().handle(client, req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        metrics.observe_ack(metrics.request_kind(payload), time.perf_counter() - received)


async def watch_connection(client: SocketModeClient, ping_interval: float) -> None:
    """Replace the connection once it has been down or silent for STALE_INTERVALS pings."""
    healthy_at = time.monotonic()
    while True:
        await asyncio.sleep(ping_interval)
        try:
            if await client.is_connected():
                healthy_at = time.monotonic()
                continue
            if time.monotonic() - healthy_at < STALE_INTERVALS * ping_interval:
                continue
            log.warning(
                "the Socket Mode connection has been down or silent for %.0f s: reconnecting",
                time.monotonic() - healthy_at,
            )
            await asyncio.wait_for(client.connect_to_new_endpoint(force=True), RECONNECT_SECONDS)
            healthy_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Slack unreachable: try again at the next tick
            log.warning("reconnecting to Slack failed: %s", type(exc).__name__)
