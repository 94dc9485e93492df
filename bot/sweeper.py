"""`altegio-bot alerts`: run the licence alert sweep once (cron), or every so often (clock process).

Everything the sweep needs comes from the same Runtime as the web process (store, Altegio client
with its rate limiter, shared through REDIS_URL), plus a Slack client whose retries suit posting
alerts (bot/slack_client.py): several sweepers on one PostgreSQL database can run at once (see
sweep/alerts.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from api import lane
from bot import metrics
from bot.retention import PRUNE_INTERVAL, Retention, owner_id, prune_quietly
from bot.runtime import Runtime
from bot.sandbox.marking import mark_client
from bot.settings import Settings, handler_config
from bot.slack_client import SWEEP_RETRIES, web_client
from handlers.store import StoreUnavailable
from sweep.alerts import DEFAULT_INTERVAL, SweepSummary, sweep

log = logging.getLogger("altegio.bot")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
MIN_INTERVAL = 1.0


class SweepFailed(Exception):
    """The sweep could not run at all (the watches could not be read)."""


def parse_interval(text: str) -> float:
    """Seconds from "30s", "15m", "1h", "1d" (or plain seconds)."""
    match = _INTERVAL.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an interval: use a number with s, m, h or d, like 1h")
    seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds < MIN_INTERVAL:
        raise ValueError(f"{text!r} is too short: sweep at most once a second")
    return seconds


def hourly_budget(settings: Settings) -> float:
    """Altegio calls an hour the settings allow (12,000 at 5 a second and 200 a minute)."""
    per_hour = settings.altegio_rate_limit * 3600
    if settings.per_minute_limit:
        per_hour = min(per_hour, settings.per_minute_limit * 60)
    return per_hour


async def sweep_once(
    runtime: Runtime,
    client: AsyncWebClient,
    *,
    prune: bool = True,
    every: float | None = None,
) -> SweepSummary:
    """One sweep, then (if `prune`) the history it and the web process left behind is pruned.

    `every`: seconds between sweeps (None: run by cron, taken to be hourly), so the sweep knows
    which licences could have news before the next one.
    """
    started = time.perf_counter()
    settings = runtime.settings
    tokens = None
    if settings.distributed:
        from bot.oauth import bot_tokens

        # Each workspace's alerts go out with its own bot token, and each watch is fetched
        # with the Altegio session of the member who set it up.
        tokens = bot_tokens(settings, runtime.store, client)
    try:
        with lane("sweep"):  # Altegio's budget goes to people first (api/lanes.py)
            summary = await sweep(
                runtime.altegio,
                runtime.store,
                client,
                handler_config(settings),
                owner=owner_id(),
                bot_tokens=tokens,
                as_members=settings.distributed,
                interval=timedelta(seconds=every) if every else DEFAULT_INTERVAL,
                refresh=timedelta(seconds=settings.alert_refresh),
                hourly_budget=hourly_budget(runtime.settings),
            )
    except StoreUnavailable as exc:
        metrics.observe_sweep(None, time.perf_counter() - started)
        _export(runtime.settings)
        raise SweepFailed(
            "The alert sweep could not read the watches: the database is unreachable "
            f"({exc}). Check DATABASE_URL and that the database is up; nothing was posted, "
            "and the next sweep picks up everything that is due."
        ) from None
    metrics.observe_sweep(summary, time.perf_counter() - started)
    _export(runtime.settings)
    if prune:
        await prune_quietly(runtime.store, Retention.from_settings(runtime.settings))
    return summary


def _export(settings: Settings) -> None:
    if settings.metrics_textfile:
        try:
            metrics.write_textfile(settings.metrics_textfile)
        except OSError as exc:
            log.warning("could not write the metrics file: %s", exc)


async def run_alerts(settings: Settings, *, every: float | None = None) -> SweepSummary | None:
    """One sweep (returns its summary), or one every `every` seconds until SIGTERM/SIGINT."""
    runtime = await Runtime.open(settings)
    client = web_client(settings, runtime.http, retries=SWEEP_RETRIES)
    if settings.altegio_sandbox:
        mark_client(client)
    if every is not None and settings.metrics_port:
        metrics.serve_port(settings.metrics_port)
        log.info("serving sweep metrics on port %s /metrics", settings.metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if every is None:
            return await _unless_stopped(lambda: sweep_once(runtime, client), stop)
        await _every(runtime, client, every, stop)
        return None
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await runtime.close()


async def _every(
    runtime: Runtime, client: AsyncWebClient, every: float, stop: asyncio.Event
) -> None:
    log.info("alert sweeps every %g s", every)
    pruned_at: float | None = None
    while not stop.is_set():
        started = asyncio.get_running_loop().time()
        # Pruning after every sweep of a short interval would only repeat itself.
        prune = pruned_at is None or started - pruned_at >= PRUNE_INTERVAL
        if prune:
            pruned_at = started
        try:
            await _unless_stopped(
                functools.partial(sweep_once, runtime, client, prune=prune, every=every), stop
            )
        except SweepFailed as exc:  # a database outage: try again at the next tick
            log.error("%s", exc)
        except Exception:
            log.exception("the alert sweep failed; trying again at the next tick")
        delay = every - (asyncio.get_running_loop().time() - started)
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    log.info("alert sweeps stopped")


async def _unless_stopped(
    work: Callable[[], Awaitable[SweepSummary]], stop: asyncio.Event
) -> SweepSummary | None:
    """Run `work`; a stop request cancels it (claims in flight are released as it unwinds)."""
    task = asyncio.ensure_future(work())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    finally:
        stopper.cancel()
    if not task.done():
        log.info("stopping: cancelling the sweep in progress")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return task.result()
