"""Exactly-once claims: deliveries, file uploads and alerts, alone and under contention.

The contention tests open several stores, each with its own engine and connection pool, as
separate processes would, and race them with asyncio.gather.
"""

import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from bot.storage.schema import alerts, deliveries, files
from handlers.store import AlertKey

CONTENDERS = 12


async def _race(make_store, claim) -> list[bool]:
    stores = [await make_store() for _ in range(CONTENDERS)]
    return await asyncio.gather(*(claim(s) for s in stores))


# -- deliveries ---------------------------------------------------------------------------------


async def test_delivery_claimed_once_per_team_and_key(store) -> None:
    assert await store.claim_delivery("T1", "Ev1")
    assert not await store.claim_delivery("T1", "Ev1")
    assert await store.claim_delivery("T2", "Ev1")
    assert await store.claim_delivery("T1", "Ev2")


async def test_delivery_race_has_one_winner(make_store) -> None:
    results = await _race(make_store, lambda s: s.claim_delivery("T1", "Ev-race"))
    assert results.count(True) == 1


async def test_old_deliveries_are_pruned(store, clock) -> None:
    assert await store.claim_delivery("T1", "old")
    clock.advance(timedelta(days=2).total_seconds())
    assert await store.claim_delivery("T1", "new")
    assert await store.prune_deliveries(clock.now - timedelta(days=1)) == 1
    async with store.engine.connect() as conn:
        keys = (await conn.execute(select(deliveries.c.key))).scalars().all()
    assert keys == ["new"]
    assert not await store.claim_delivery("T1", "new")


# -- files --------------------------------------------------------------------------------------


async def _file_state(store, file_id: str = "F1") -> tuple[str, str]:
    async with store.engine.connect() as conn:
        stmt = select(files.c.state, files.c.detail).where(files.c.file_id == file_id)
        row = (await conn.execute(stmt)).one()
    return row.state, row.detail


async def test_file_claimed_once_then_done(store) -> None:
    owner = await store.claim_file("T1", "F1")
    assert owner
    assert not await store.claim_file("T1", "F1")
    assert await store.finish_file("T1", "F1", owner=owner, ok=True, detail="image group 5")
    assert await _file_state(store) == ("done", "image group 5")
    assert not await store.claim_file("T1", "F1")
    assert await store.claim_file("T2", "F1")  # another workspace's file id


async def test_failed_upload_can_be_claimed_again(store) -> None:
    owner = await store.claim_file("T1", "F1")
    assert await store.finish_file("T1", "F1", owner=owner, ok=False, detail="Altegio unavailable")
    assert await _file_state(store) == ("failed", "Altegio unavailable")
    assert await store.claim_file("T1", "F1")
    assert await _file_state(store) == ("uploading", "")
    assert not await store.claim_file("T1", "F1")


async def test_expired_upload_lease_is_taken_over(store, clock) -> None:
    assert await store.claim_file("T1", "F1", lease_seconds=60)
    clock.advance(59)
    assert not await store.claim_file("T1", "F1")
    clock.advance(1)
    assert await store.claim_file("T1", "F1", lease_seconds=60)
    assert not await store.claim_file("T1", "F1")


async def test_a_claim_that_outlived_its_lease_cannot_overwrite_its_successor(store, clock) -> None:
    late = await store.claim_file("T1", "F1", lease_seconds=60)
    clock.advance(61)
    current = await store.claim_file("T1", "F1", lease_seconds=60)
    assert current and current != late
    # The late uploader fails (or succeeds) after the takeover: nothing it says is recorded.
    assert not await store.finish_file("T1", "F1", owner=late, ok=False, detail="timed out")
    assert await _file_state(store) == ("uploading", "")
    assert not await store.claim_file("T1", "F1")  # still held by the current claim
    assert await store.finish_file("T1", "F1", owner=current, ok=True, detail="image group 7")
    assert not await store.finish_file("T1", "F1", owner=late, ok=False, detail="late")
    assert await _file_state(store) == ("done", "image group 7")


async def test_file_race_has_one_winner(make_store) -> None:
    results = await _race(make_store, lambda s: s.claim_file("T1", "F-new"))
    assert sum(1 for r in results if r) == 1


async def test_file_retry_race_has_one_winner(make_store) -> None:
    first = await make_store()
    owner = await first.claim_file("T1", "F1")
    assert await first.finish_file("T1", "F1", owner=owner, ok=False)
    results = await _race(make_store, lambda s: s.claim_file("T1", "F1"))
    assert sum(1 for r in results if r) == 1


async def test_expired_file_lease_race_has_one_winner(make_store, clock) -> None:
    first = await make_store()
    assert await first.claim_file("T1", "F1", lease_seconds=10)
    clock.advance(11)
    results = await _race(make_store, lambda s: s.claim_file("T1", "F1"))
    assert sum(1 for r in results if r) == 1


# -- alerts -------------------------------------------------------------------------------------

PERIOD = date(2026, 3, 20)


def key(kind: str = "days:30", period: date | None = PERIOD, channel: str = "C1") -> AlertKey:
    return AlertKey("T1", channel, 4523464, period, kind)


async def test_alert_claim_complete_and_never_again(store, clock) -> None:
    assert await store.claim_alert(key(), owner="sweeper-a")
    assert not await store.claim_alert(key(), owner="sweeper-b")
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == set()
    await store.complete_alert(key(), message_ts="1700000000.000100")
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == {"days:30"}
    clock.advance(10_000)  # a sent alert has no lease to expire
    assert not await store.claim_alert(key(), owner="sweeper-b")
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(alerts))).one()
    assert (row.state, row.owner, row.message_ts) == ("sent", "sweeper-a", "1700000000.000100")
    assert row.sent_at == clock.now - timedelta(seconds=10_000)
    assert row.sent_at.tzinfo is not None


async def test_released_alert_is_claimed_by_the_next_sweep(store) -> None:
    assert await store.claim_alert(key(), owner="a")
    await store.release_alert(key())
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == set()
    assert await store.claim_alert(key(), owner="b")


async def test_release_never_undoes_a_sent_alert(store) -> None:
    assert await store.claim_alert(key(), owner="a")
    await store.complete_alert(key(), message_ts="1.2")
    await store.release_alert(key())
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == {"days:30"}
    assert not await store.claim_alert(key(), owner="b")


async def test_expired_alert_claim_is_taken_over(store, clock) -> None:
    assert await store.claim_alert(key(), owner="dead", lease_seconds=30)
    clock.advance(29)
    assert not await store.claim_alert(key(), owner="b")
    clock.advance(1)
    assert await store.claim_alert(key(), owner="b", lease_seconds=30)
    assert not await store.claim_alert(key(), owner="c")
    await store.complete_alert(key(), message_ts="9.9")
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(alerts.c.owner))).scalar_one() == "b"


async def test_complete_without_claim_records_the_alert(store) -> None:
    await store.complete_alert(key("days:7"), message_ts="1.1")
    await store.complete_alert(key("days:7"), message_ts="2.2")  # first record is kept
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == {"days:7"}
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(alerts.c.message_ts))).scalar_one() == "1.1"


async def test_alert_keys_are_independent(store) -> None:
    later = PERIOD + timedelta(days=365)
    claims = [
        key("days:30"),
        key("days:7"),
        key("days:30", period=later),
        key("days:30", channel="C2"),
        AlertKey("T2", "C1", 4523464, PERIOD, "days:30"),
        AlertKey("T1", "C1", 1, PERIOD, "days:30"),
    ]
    for k in claims:
        assert await store.claim_alert(k, owner="a")
    for k in claims[:3]:
        await store.complete_alert(k, message_ts="1.0")
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == {"days:30", "days:7"}
    assert await store.sent_alert_kinds("T1", "C1", 4523464, later) == {"days:30"}
    assert await store.sent_alert_kinds("T1", "C2", 4523464, PERIOD) == set()


async def test_unknown_period_is_still_unique(store) -> None:
    assert await store.claim_alert(key("inactive", period=None), owner="a")
    assert not await store.claim_alert(key("inactive", period=None), owner="b")
    await store.complete_alert(key("inactive", period=None), message_ts="3.3")
    assert await store.sent_alert_kinds("T1", "C1", 4523464, None) == {"inactive"}
    assert await store.sent_alert_kinds("T1", "C1", 4523464, PERIOD) == set()
    assert not await store.claim_alert(key("inactive", period=None), owner="c")


async def test_alert_race_has_one_winner(make_store) -> None:
    results = await _race(make_store, lambda s: s.claim_alert(key(), owner=str(id(s))))
    assert results.count(True) == 1


async def test_expired_alert_race_has_one_winner(make_store, clock) -> None:
    first = await make_store()
    assert await first.claim_alert(key(), owner="dead", lease_seconds=5)
    clock.advance(6)
    results = await _race(make_store, lambda s: s.claim_alert(key(), owner=str(id(s))))
    assert results.count(True) == 1


async def test_sweepers_share_many_alerts_exactly_once(make_store) -> None:
    """Several sweepers over the same 20 alerts: every alert is claimed by exactly one."""
    sweepers = [await make_store() for _ in range(4)]
    keys = [AlertKey("T1", "C1", location, PERIOD, "days:7") for location in range(20)]

    async def sweep(store, name: str) -> list[int]:
        won = []
        for k in keys:
            if await store.claim_alert(k, owner=name):
                await store.complete_alert(k, message_ts=f"{k.location_id}.0")
                won.append(k.location_id)
        return won

    results = await asyncio.gather(*(sweep(s, f"s{i}") for i, s in enumerate(sweepers)))
    assert sorted(loc for won in results for loc in won) == list(range(20))
