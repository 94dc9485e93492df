"""Pruning: history the bot keeps only as long as a guarantee needs it.

What is kept, and for how long (settings in brackets):

- **Delivered Slack events** [DELIVERY_RETENTION_HOURS, 24]: a delivery id only stops Slack's
  retries (within minutes) from being processed twice; a day is ample.
- **Photo records** [FILE_RETENTION_DAYS, 90]: a record of an uploaded file makes a re-share of
  the same file say "already uploaded" instead of uploading it again. After the retention the
  record goes, and sharing that same file again uploads it again. An upload in progress (lease
  still running) is never pruned.
- **The alert log** [ALERT_RETENTION_DAYS, 90]: a row that says an alert was sent keeps it from
  being sent again for the same licence period, so it stays while that period can still be
  current. Rows go only once older than the retention and either the channel stopped watching
  the location, or a later licence period of it has been alerted (see SqlStore.prune_alerts).
- **The audit trail** [AUDIT_RETENTION_DAYS, 365]: who did what; kept as long as an operator
  may need to look back, then pruned like the rest.
- **Named leases** left behind by stopped processes: a day after they ran out.

Each run deletes in batches of PRUNE_BATCH rows (one short transaction each), at most
MAX_BATCHES per table, so a backlog is worked off over several runs without holding the database.
Whichever process runs (`serve`, `socket` every PRUNE_INTERVAL, the alert sweep after each sweep)
prunes, under a named lease so that two processes do not prune at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.settings import Settings
from bot.storage import SqlStore
from bot.storage.store import PRUNE_BATCH

log = logging.getLogger("altegio.bot")

PRUNE_LEASE = "retention"
PRUNE_LEASE_SECONDS = 300.0
PRUNE_INTERVAL = 15 * 60.0
MAX_BATCHES = 10
LEASE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Retention:
    deliveries: timedelta = timedelta(hours=24)
    files: timedelta = timedelta(days=90)
    alerts: timedelta = timedelta(days=90)
    audit: timedelta = timedelta(days=365)

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            deliveries=timedelta(hours=settings.delivery_retention_hours),
            files=timedelta(days=settings.file_retention_days),
            alerts=timedelta(days=settings.alert_retention_days),
            audit=timedelta(days=settings.audit_retention_days),
        )


def owner_id() -> str:
    """Names this process in the leases and claims it takes (for people reading the tables)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def prune_once(
    store: SqlStore,
    retention: Retention,
    *,
    batch: int = PRUNE_BATCH,
    max_batches: int = MAX_BATCHES,
) -> dict[str, int] | None:
    """One pruning run; how many rows went from each table, or None if another process is
    pruning now (it holds the lease)."""
    owner = owner_id()
    if not await store.claim_lease(PRUNE_LEASE, owner=owner, lease_seconds=PRUNE_LEASE_SECONDS):
        return None
    now = store.now()
    steps: dict[str, Callable[..., Awaitable[int]]] = {
        "deliveries": lambda **kw: store.prune_deliveries(now - retention.deliveries, **kw),
        "files": lambda **kw: store.prune_files(now - retention.files, **kw),
        "alerts": lambda **kw: store.prune_alerts(now - retention.alerts, **kw),
        "leases": lambda **kw: store.prune_leases(now - LEASE_GRACE, **kw),
        "audit": lambda **kw: store.prune_audit(now - retention.audit, **kw),
    }
    pruned: dict[str, int] = {}
    try:
        for name, step in steps.items():
            pruned[name] = 0
            for _ in range(max_batches):
                gone = await step(limit=batch)
                pruned[name] += gone
                if gone < batch:
                    break
    finally:
        with contextlib.suppress(Exception):
            await store.release_lease(PRUNE_LEASE, owner=owner)
    if any(pruned.values()):
        log.info("pruned old rows: %s", ", ".join(f"{k} {v}" for k, v in pruned.items()))
    return pruned


async def prune_quietly(store: SqlStore, retention: Retention) -> None:
    """prune_once, whose failures are logged, never raised: pruning is housekeeping."""
    try:
        await prune_once(store, retention)
    except Exception as exc:
        log.warning("pruning old rows failed (%s); trying again later", type(exc).__name__)


async def prune_every(store: SqlStore, retention: Retention, interval: float) -> None:
    """Prune now and every `interval` seconds until cancelled."""
    while True:
        await prune_quietly(store, retention)
        await asyncio.sleep(interval)
