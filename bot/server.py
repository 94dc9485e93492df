"""HTTP mode: Slack's requests on POST /slack/events, a health check on GET /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator

import uvicorn
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.health import HealthCheck
from bot.runtime import Runtime
from bot.slack_requests import MalformedRequest, bolt_request, signed_by_slack

log = logging.getLogger("altegio.bot")

# Slack's own payloads are a few kilobytes; anything far larger is not from Slack.
MAX_BODY_BYTES = 1024 * 1024


def create_asgi(runtime: Runtime) -> Starlette:
    signing_secret = runtime.settings.slack_signing_secret.get_secret_value()
    metrics_token = runtime.settings.metrics_token

    async def events(request: Request) -> Response:
        received = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return PlainTextResponse("Request body too large", status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse("Request body too large", status_code=413)
        try:
            slack_request = bolt_request(body, request.headers, request.query_params)
        except MalformedRequest as exc:
            # Bolt checks signatures only on what it can parse: say 401 to anyone but Slack.
            if not signed_by_slack(signing_secret, body, request.headers):
                return PlainTextResponse("Unauthorized", status_code=401)
            log.info("refused a request: %s", exc)
            return PlainTextResponse("Bad request", status_code=400)
        try:
            answer = await runtime.app.async_dispatch(slack_request)
        except Exception as exc:
            # Listeners' errors never get here (Bolt and `guarded` answer them): this is a
            # payload Bolt itself could not read, e.g. a view without its type.
            log.warning("refused a request Bolt could not read: %s", type(exc).__name__)
            return PlainTextResponse("Bad request", status_code=400)
        if answer.status != 401:  # unsigned requests are nobody's: they would only add labels
            metrics.observe_ack(
                metrics.request_kind(slack_request.body), time.perf_counter() - received
            )
        return to_starlette_response(answer)

    health = HealthCheck(runtime.store.ping)

    async def healthz(request: Request) -> Response:
        result = await health.check()
        return JSONResponse(result.as_json(), status_code=200 if result.ok else 503)

    async def metrics_page(request: Request) -> Response:
        token = metrics_token.get_secret_value() if metrics_token else None
        if not metrics.authorized(token, request.headers.get("authorization")):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ]
    )


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop to serve on: uvloop where installed (uvicorn[standard]), as uvicorn's own
    `loop="auto"` picks; it costs the server less CPU per request than asyncio's loop. None means
    asyncio's default loop. The bench serves its bare-Bolt baseline on the same loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def uvicorn_config(asgi: Starlette, *, host: str, port: int) -> uvicorn.Config:
    """How the bot is served; the bench serves its bare-Bolt baseline the same way."""
    return uvicorn.Config(
        asgi,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="*",
    )


class _Server(uvicorn.Server):
    """uvicorn's server, announcing when it listens (tests wait for that)."""

    def __init__(self, config: uvicorn.Config, ready: asyncio.Event | None) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self._ready is not None:
            self._ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop on SIGINT or SIGTERM, without uvicorn's re-raising of the signal afterwards.

        uvicorn raises the signal again once it has stopped serving, so that a program embedding
        it stops too; for SIGTERM that kills the process at once, before the bot has finished the
        replies it acked or closed its database.
        """
        with super().capture_signals():
            try:
                yield
            finally:
                getattr(self, "_captured_signals", []).clear()


async def serve(
    runtime: Runtime,
    *,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until a signal (or `stop`); `sock` and `ready` let tests use an ephemeral port."""
    server = _Server(uvicorn_config(create_asgi(runtime), host=host, port=port), ready)

    async def stop_on_request() -> None:
        if stop is not None:
            await stop.wait()
            server.should_exit = True

    stopper = asyncio.ensure_future(stop_on_request())
    log.info("serving Slack requests on http://%s:%s/slack/events", host, port)
    try:
        await server.serve(sockets=[sock] if sock else None)
    finally:
        stopper.cancel()


async def finish_acked_work(seconds: float) -> None:
    """Wait (up to `seconds`) for listeners still running after their ack: their answers.

    Call it from the top-level task once serving has stopped; every other task is theirs.
    """
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if pending:
        log.info("finishing %d requests already acknowledged", len(pending))
        await asyncio.wait(pending, timeout=seconds)
