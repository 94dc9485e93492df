"""Prometheus metrics: what the web process and the alert sweep count, and how they are read.

With several worker processes, each writes its values to files in PROMETHEUS_MULTIPROC_DIR and
a scrape of any worker adds them all up (prometheus_client's multiprocess mode). The variable
must be set before the workers start: `use_multiprocess_dir()` sets it to a fresh directory.
"""

from __future__ import annotations

import hmac
import os
import re
import tempfile
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
    write_to_textfile,
)

if TYPE_CHECKING:
    from sweep.alerts import SweepSummary

SLOW_ACK_SECONDS = 3.0  # Slack shows the user an error past this

REQUESTS = Counter("altegio_bot_requests", "Slack requests received, by kind", ["kind"])
ACK_SECONDS = Histogram(
    "altegio_bot_ack_seconds",
    "Time from receiving a Slack request to acknowledging it, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
)
SLOW_ACKS = Counter(
    "altegio_bot_slow_acks", "Acknowledgements that took over 3 seconds, by kind", ["kind"]
)
ALTEGIO_CALLS = Counter(
    "altegio_bot_altegio_calls",
    "HTTP requests to Altegio, by endpoint and status (status 'none': no answer)",
    ["endpoint", "status"],
)
ALTEGIO_SECONDS = Histogram(
    "altegio_bot_altegio_call_seconds", "Time an Altegio request took, by endpoint", ["endpoint"]
)
LIMITER_WAIT = Histogram(
    "altegio_bot_rate_limiter_wait_seconds",
    "Time a request to Altegio waited for the rate limiter",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
CACHE_LOOKUPS = Counter(
    "altegio_bot_cache_lookups", "Licence and phone cache lookups, by result", ["cache", "result"]
)
PHOTO_UPLOADS = Counter(
    "altegio_bot_photo_uploads",
    "Photo uploads to Altegio, by outcome (uploaded, refused by Altegio, failed)",
    ["outcome"],
)
ALERTS = Counter(
    "altegio_bot_alerts", "Licence alerts, by outcome (posted, skipped, failed)", ["outcome"]
)
SWEEPS = Counter("altegio_bot_sweeps", "Alert sweeps run, by outcome (ok, failed)", ["outcome"])
SWEEP_SECONDS = Histogram(
    "altegio_bot_sweep_duration_seconds",
    "Time one alert sweep took",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COMMAND = re.compile(r"^/[a-z][a-z0-9_-]{0,31}$")


# -- reading ------------------------------------------------------------------------------------


def use_multiprocess_dir(workers: int) -> str | None:
    """Before starting `workers` processes: a fresh PROMETHEUS_MULTIPROC_DIR unless one is set.

    Call it before the workers import anything; each worker then writes its own files there.
    Returns the directory it made, for the caller to remove once the workers are gone.
    """
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = tempfile.mkdtemp(prefix="altegio-bot-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        return made
    return None


def registry() -> CollectorRegistry:
    """Every process's values in multiprocess mode, else this process's own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return combined
    return REGISTRY


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def authorized(token: str | None, header: str | None) -> bool:
    """No token set: open. Else `Authorization: Bearer <token>`, compared in constant time."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def serve_port(port: int) -> None:
    """/metrics on `port` from a thread of its own (the alert sweep's clock process)."""
    start_http_server(port, registry=registry())


def write_textfile(path: str) -> None:
    """For node_exporter's textfile collector (written whole, then renamed into place)."""
    write_to_textfile(path, registry())


# -- counting -----------------------------------------------------------------------------------


def request_kind(body: dict[str, Any]) -> str:
    """A bounded label for a Slack payload: the command, the interaction or the event type."""
    command = body.get("command")
    if isinstance(command, str):
        return command if _COMMAND.match(command) else "command"
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event") or {}
        name = event.get("type") if isinstance(event, dict) else None
        return f"event:{name}" if isinstance(name, str) and _NAME.match(name) else "event"
    return kind if isinstance(kind, str) and _NAME.match(kind) else "other"


def observe_ack(kind: str, seconds: float) -> None:
    REQUESTS.labels(kind).inc()
    ACK_SECONDS.labels(kind).observe(seconds)
    if seconds > SLOW_ACK_SECONDS:
        SLOW_ACKS.labels(kind).inc()


class AltegioMetrics:
    """The Altegio client's observer (api.client.CallObserver)."""

    def on_call(self, endpoint: str, status: int | None, seconds: float) -> None:
        ALTEGIO_CALLS.labels(endpoint, str(status) if status is not None else "none").inc()
        ALTEGIO_SECONDS.labels(endpoint).observe(seconds)
        if endpoint.startswith("images/"):
            # Uploads are never retried, so each call is one photo's outcome.
            if status is not None and 200 <= status < 300:
                outcome = "uploaded"
            elif status is not None and 400 <= status < 500 and status != 429:
                outcome = "refused"
            else:
                outcome = "failed"
            PHOTO_UPLOADS.labels(outcome).inc()

    def on_cache(self, cache: str, hit: bool) -> None:
        CACHE_LOOKUPS.labels(cache, "hit" if hit else "miss").inc()


class TimedLimiter:
    """Wraps a rate limiter to time each wait; anything else goes to the limiter itself."""

    def __init__(self, limiter: Any) -> None:
        self._limiter = limiter

    async def acquire(self) -> None:
        started = time.perf_counter()
        await self._limiter.acquire()
        LIMITER_WAIT.observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._limiter, name)


def observe_sweep(summary: SweepSummary | None, seconds: float) -> None:
    """One sweep's outcome, from its summary (None: it could not run at all)."""
    SWEEP_SECONDS.observe(seconds)
    if summary is None:
        SWEEPS.labels("failed").inc()
        return
    SWEEPS.labels("ok").inc()
    ALERTS.labels("posted").inc(summary.posted)
    ALERTS.labels("skipped").inc(summary.skipped)
    ALERTS.labels("failed").inc(summary.post_failures)
