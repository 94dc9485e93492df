"""Pruning: old history goes, in bounded batches, and nothing a guarantee still needs goes with it.

Each test runs on SQLite and PostgreSQL, with a settable clock standing in for months passing.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.retention import PRUNE_LEASE, Retention, prune_once
from bot.storage.schema import alerts, deliveries, files
from handlers.store import SHARED_CHANNEL, AlertKey

RETENTION = Retention(
    deliveries=timedelta(hours=24), files=timedelta(days=90), alerts=timedelta(days=90)
)


async def _count(store, table) -> int:
    async with store.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_delivery_ids_are_kept_past_slacks_retries_then_pruned(store, clock) -> None:
    assert await store.claim_delivery("T1", "Ev-old")
    clock.advance(timedelta(hours=23).total_seconds())
    assert await store.claim_delivery("T1", "Ev-new")
    await prune_once(store, RETENTION)
    assert not await store.claim_delivery("T1", "Ev-old")  # a late retry is still refused

    clock.advance(timedelta(hours=2).total_seconds())
    pruned = await prune_once(store, RETENTION)
    assert pruned is not None and pruned["deliveries"] == 1
    assert not await store.claim_delivery("T1", "Ev-new")
    assert await _count(store, deliveries) == 1


async def test_a_photo_record_guards_a_reshare_until_its_retention_ends(store, clock) -> None:
    owner = await store.claim_file("T1", "F-done")
    assert await store.finish_file("T1", "F-done", owner=owner, ok=True)
    # An upload whose lease outlives the retention is in progress: never pruned.
    assert await store.claim_file("T1", "F-busy", lease_seconds=200 * 86400)

    clock.advance(timedelta(days=89).total_seconds())
    await prune_once(store, RETENTION)
    assert not await store.claim_file("T1", "F-done")  # re-shared: "already uploaded"

    clock.advance(timedelta(days=2).total_seconds())
    pruned = await prune_once(store, RETENTION)
    assert pruned is not None and pruned["files"] == 1
    assert await store.claim_file("T1", "F-done")  # the documented trade-off: uploaded again
    assert not await store.claim_file("T1", "F-busy")


async def _sent(store, key: AlertKey) -> None:
    assert await store.claim_alert(key, owner="sweeper")
    await store.complete_alert(key, message_ts="1.0")


async def test_the_alert_log_of_a_current_period_is_kept_however_old(store, clock) -> None:
    await store.add_watch("T1", "C1", 4523464, "U1")
    lapsing = date(2026, 3, 20)
    await _sent(store, AlertKey("T1", "C1", 4523464, lapsing, "days:30"))
    await _sent(store, AlertKey("T1", "C1", 4523464, lapsing, "expired"))

    clock.advance(timedelta(days=400).total_seconds())  # never renewed: still its period
    await prune_once(store, RETENTION)
    assert await store.sent_alert_kinds("T1", "C1", 4523464, lapsing) == {"days:30", "expired"}


async def test_the_alert_log_of_a_renewed_or_unwatched_licence_is_pruned(store, clock) -> None:
    await store.add_watch("T1", "C1", 4523464, "U1")
    await store.add_watch("T1", "C1", 4523465, "U1")
    old, new = date(2026, 3, 20), date(2027, 3, 20)
    await _sent(store, AlertKey("T1", "C1", 4523464, old, "days:7"))
    await _sent(store, AlertKey("T1", "C1", 4523465, old, "days:7"))
    await _sent(store, AlertKey("T1", "C2", 4523464, old, "days:7"))  # C2 never watched it again
    # A claim whose sweeper died: its lease ran out long ago.
    assert await store.claim_alert(AlertKey("T1", "C1", 4523465, None, "inactive"), owner="gone")

    clock.advance(timedelta(days=340).total_seconds())
    await _sent(store, AlertKey("T1", "C1", 4523464, new, "days:30"))  # renewed, alerted again
    clock.advance(timedelta(days=30).total_seconds())

    pruned = await prune_once(store, RETENTION)
    assert pruned is not None and pruned["alerts"] == 3
    assert await store.sent_alert_kinds("T1", "C1", 4523464, old) == set()
    assert await store.sent_alert_kinds("T1", "C1", 4523464, new) == {"days:30"}
    # Not renewed (no later period alerted) and still watched: kept.
    assert await store.sent_alert_kinds("T1", "C1", 4523465, old) == {"days:7"}
    assert await store.sent_alert_kinds("T1", "C2", 4523464, old) == set()
    assert await _count(store, alerts) == 2


async def test_a_shared_channels_alert_log_is_kept_while_any_workspace_watches_there(
    store, clock
) -> None:
    lapsing = date(2026, 3, 20)
    await store.add_watch("T2", "C1", 4523464, "U1")  # the other workspace, on the same channel
    await _sent(store, AlertKey(SHARED_CHANNEL, "C1", 4523464, lapsing, "days:7"))
    await _sent(store, AlertKey(SHARED_CHANNEL, "C9", 4523464, lapsing, "days:7"))  # unwatched
    clock.advance(timedelta(days=400).total_seconds())
    pruned = await prune_once(store, RETENTION)
    assert pruned is not None and pruned["alerts"] == 1
    assert await store.sent_alert_kinds(SHARED_CHANNEL, "C1", 4523464, lapsing) == {"days:7"}
    assert await store.sent_alert_kinds(SHARED_CHANNEL, "C9", 4523464, lapsing) == set()


async def test_a_backlog_is_pruned_in_bounded_batches_over_several_runs(store, clock) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            deliveries.insert(),
            [{"team_id": "T1", "key": f"Ev{i}", "created_at": clock.now} for i in range(1200)],
        )
    clock.advance(timedelta(days=2).total_seconds())
    first = await prune_once(store, RETENTION, batch=500, max_batches=2)
    assert first is not None and first["deliveries"] == 1000
    assert await _count(store, deliveries) == 200
    second = await prune_once(store, RETENTION, batch=500, max_batches=2)
    assert second is not None and second["deliveries"] == 200
    assert await _count(store, deliveries) == 0


async def test_two_processes_never_prune_at_the_same_time(make_store, clock) -> None:
    one, two = await make_store(), await make_store()
    assert await one.claim_lease(PRUNE_LEASE, owner="another process", lease_seconds=300)
    assert await prune_once(two, RETENTION) is None
    clock.advance(301)  # that process died holding it: its lease runs out
    assert await prune_once(two, RETENTION) is not None
    results = await asyncio.gather(prune_once(one, RETENTION), prune_once(two, RETENTION))
    assert results.count(None) <= 1
    assert await _count(one, files) == 0
