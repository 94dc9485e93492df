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
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.health import HealthCheck
from bot.runtime import Runtime
from bot.slack_requests import MalformedRequest, SlackSignature, bolt_request

log = logging.getLogger("altegio.bot")

# Slack's own payloads are a few kilobytes; anything far larger is not from Slack.
MAX_BODY_BYTES = 1024 * 1024
# A larger body is still read (not kept) to tell a forgery (401) from Slack (413); beyond this,
# the connection is refused unread.
MAX_DISCARD_BYTES = 4 * MAX_BODY_BYTES


def _plain(text: str, status: int, *, close: bool = False) -> Response:
    headers = {"Connection": "close"} if close else None
    return PlainTextResponse(text, status_code=status, headers=headers)


def create_asgi(runtime: Runtime) -> Starlette:
    signing_secret = runtime.settings.slack_signing_secret.get_secret_value()
    metrics_token = runtime.settings.metrics_token
    body_timeout = runtime.settings.request_body_timeout

    def refused(request: Request, why: str) -> Response:
        # Never the body: a forged or replayed login form would carry a password.
        client = request.client.host if request.client else "?"
        log.info("refused a request from %s: %s", client, why)
        return _plain("Unauthorized", 401, close=True)

    async def events(request: Request) -> Response:
        received = time.perf_counter()
        # Nothing about the body is looked at before Slack's signature holds: the timestamp and
        # signature headers first, then an HMAC over the raw bytes as they arrive.
        signature = SlackSignature(signing_secret, request.headers)
        if not signature.plausible:
            return refused(request, "no Slack signature, or a stale timestamp")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_DISCARD_BYTES):
            return _plain("Request body too large", 413, close=True)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(body_timeout):
                async for chunk in request.stream():
                    signature.update(chunk)
                    size += len(chunk)
                    if size > MAX_DISCARD_BYTES:
                        return _plain("Request body too large", 413, close=True)
                    if size <= MAX_BODY_BYTES:
                        chunks.append(chunk)
        except TimeoutError:
            log.info("cut off a request whose body took over %g s", body_timeout)
            return _plain("Request timeout", 408, close=True)
        except ClientDisconnect:
            return _plain("Bad request", 400, close=True)
        if not signature.valid():
            return refused(request, "the Slack signature does not match")
        if size > MAX_BODY_BYTES:
            return _plain("Request body too large", 413, close=True)
        body = b"".join(chunks)
        try:
            slack_request = bolt_request(body, request.headers, request.query_params)
        except MalformedRequest as exc:
            log.info("refused a request: %s", exc)
            return _plain("Bad request", 400)
        try:
            answer = await runtime.app.async_dispatch(slack_request)
        except Exception as exc:
            # Listeners' errors never get here (Bolt and `guarded` answer them): this is a
            # payload Bolt itself could not read, e.g. a view without its type.
            log.warning("refused a request Bolt could not read: %s", type(exc).__name__)
            return _plain("Bad request", 400)
        if answer.status != 401:  # unsigned requests are nobody's: they would only add labels
            metrics.observe_ack(
                metrics.request_kind(slack_request.body), time.perf_counter() - received
            )
        return to_starlette_response(answer)

    health = HealthCheck(
        runtime.store.ping,
        partner_token_refused=lambda: runtime.altegio.partner_token_refused,
    )

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
            *runtime.install_routes(),
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


def uvicorn_config(
    asgi: Starlette,
    *,
    host: str,
    port: int,
    max_concurrent_requests: int | None = None,
    forwarded_allow_ips: str = "127.0.0.1",
) -> uvicorn.Config:
    """How the bot is served; the bench serves its bare-Bolt baseline the same way.

    `max_concurrent_requests` connections (idle keep-alive ones included) are served at once;
    a request on one more gets 503 from uvicorn.
    X-Forwarded-For and -Proto are believed only from `forwarded_allow_ips` (the operator's
    proxies); from anyone else they could put any address in the log.
    """
    trusted = [a.strip() for a in forwarded_allow_ips.split(",") if a.strip()]
    return uvicorn.Config(
        asgi,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        # uvicorn refuses a request when the open connections, its own counted, reach
        # limit_concurrency (or the other requests in progress do): a limit of N serves only
        # N - 1 connections at once, so N simultaneous shares had some refused. One more makes
        # the cap what the setting says: N at once, the next one 503.
        limit_concurrency=max_concurrent_requests + 1 if max_concurrent_requests else None,
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
    settings = runtime.settings
    config = uvicorn_config(
        create_asgi(runtime),
        host=host,
        port=port,
        max_concurrent_requests=settings.max_concurrent_requests,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    server = _Server(config, ready)

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
