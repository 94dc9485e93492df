"""What both fakes share: a loopback server, a request journal, fault rules, load figures."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Self

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.faults import RuleBook
from tests.fakes.records import RECORD_KEY, Journal, RecordedRequest, record_request
from tests.fakes.server import ThreadedServer, bind_loopback

MAX_BODY = 128 * 1024 * 1024  # well past any upload limit the bot may enforce


class FakeServer:
    """Subclasses add routes in `setup_routes` and name each request's fault key."""

    def __init__(self, *, latency: float = 0.0, hosts: Sequence[str] = ("127.0.0.1",)) -> None:
        self._default_latency = latency
        self.latency = latency  # seconds added to every response (bench: 0.05)
        self.rules = RuleBook()
        self.journal: Journal[RecordedRequest] = Journal()
        self.peak_concurrency = 0
        self._in_flight = 0
        self._counter_lock = threading.Lock()
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_BODY)
        self.setup_routes(app)
        self._server = ThreadedServer(app, [bind_loopback(host) for host in hosts])

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` with no trailing slash."""
        host, port = self._server.address(0)
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def reset_requests(self) -> None:
        """Forget what was received, keeping the data and the rules."""
        self.journal.clear()

    def reset(self) -> None:
        """Forget requests, faults and delays; subclasses also restore their data."""
        self.rules.clear()
        self.journal.clear()
        self.latency = self._default_latency
        with self._counter_lock:
            self.peak_concurrency = self._in_flight

    # -- hooks ----------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def fault_key(self, request: web.Request) -> str:
        return request.path

    def precheck(self, request: web.Request) -> web.StreamResponse | None:
        """Answer before delays and faults (e.g. an enforced rate limit), or None."""
        return None

    def after(self, request: web.Request, record: RecordedRequest) -> None:
        """Called once per request when its outcome is known."""

    # -- journal --------------------------------------------------------------------------
    def requests(
        self, path: str | None = None, *, method: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, optionally those whose path contains `path`."""
        return self.journal.items(_request_filter(path, method))

    def wait_for_requests(
        self,
        count: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        timeout: float = 5.0,
    ) -> list[RecordedRequest]:
        return self.journal.wait(_request_filter(path, method), count, timeout, "requests")

    async def wait_for_requests_async(
        self,
        count: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (a deadline, not a cancel scope)
    ) -> list[RecordedRequest]:
        return await self.journal.wait_async(
            _request_filter(path, method), count, timeout, "requests"
        )

    def max_rate(self, window: float = 1.0, *, path: str | None = None) -> int:
        """The most requests that arrived within any `window` seconds."""
        times = sorted(r.started for r in self.requests(path))
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] > window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # -- the middleware every request goes through ----------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        record = await record_request(request)
        request[RECORD_KEY] = record
        self.journal.append(record)
        with self._counter_lock:
            self._in_flight += 1
            self.peak_concurrency = max(self.peak_concurrency, self._in_flight)
        try:
            response = self.precheck(request)
            if response is None:
                delay, rule = self.rules.take(request.method, self.fault_key(request))
                delay += self.latency
                if delay > 0:
                    await asyncio.sleep(delay)
                if rule is not None and rule.drop:
                    record.dropped = True
                    if request.transport is not None:
                        request.transport.close()
                    return web.Response()  # never reaches the client
                response = rule.response() if rule is not None else await handler(request)
            record.status = response.status
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                record.response_body = response.body
            return response
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        finally:
            record.finished = time.monotonic()
            with self._counter_lock:
                self._in_flight -= 1
            self.after(request, record)


def _request_filter(path: str | None, method: str | None) -> Callable[[RecordedRequest], bool]:
    def where(r: RecordedRequest) -> bool:
        return (path is None or path in r.path) and (method is None or r.method == method.upper())

    return where
