from datetime import UTC, date, datetime, timedelta, timezone

from handlers.store import LicenceSummary


async def test_add_get_remove(store, clock) -> None:
    assert await store.get_watch("T1", "C1", 4523464) is None
    assert await store.add_watch("T1", "C1", 4523464, "U1")
    assert not await store.add_watch("T1", "C1", 4523464, "U2")  # already watched
    watch = await store.get_watch("T1", "C1", 4523464)
    assert (watch.team_id, watch.channel_id, watch.location_id) == ("T1", "C1", 4523464)
    assert watch.created_by == "U2"  # whoever watched it last is its member
    assert watch.created_at == clock.now and watch.created_at.tzinfo is not None
    assert watch.snoozed_until is None and watch.acknowledged_period is None
    assert await store.remove_watch("T1", "C1", 4523464)
    assert not await store.remove_watch("T1", "C1", 4523464)
    assert await store.get_watch("T1", "C1", 4523464) is None


async def test_list_filters_and_order(store) -> None:
    for team, channel, location in [
        ("T2", "C1", 5),
        ("T1", "C2", 3),
        ("T1", "C1", 9),
        ("T1", "C1", 2),
        ("T1", "C2", 1),
    ]:
        assert await store.add_watch(team, channel, location, "U1")
    everything = [(w.team_id, w.channel_id, w.location_id) for w in await store.list_watches()]
    assert everything == [
        ("T1", "C1", 2),
        ("T1", "C1", 9),
        ("T1", "C2", 1),
        ("T1", "C2", 3),
        ("T2", "C1", 5),
    ]
    assert [w.location_id for w in await store.list_watches("T1")] == [2, 9, 1, 3]
    assert [w.location_id for w in await store.list_watches("T1", "C2")] == [1, 3]
    assert [w.team_id for w in await store.list_watches(channel_id="C1")] == ["T1", "T1", "T2"]
    assert await store.list_watches("T3") == []


async def test_large_location_ids(store) -> None:
    assert await store.add_watch("T1", "C1", 9_000_000_000, "U1")
    assert (await store.get_watch("T1", "C1", 9_000_000_000)).location_id == 9_000_000_000


async def test_snooze(store, clock) -> None:
    assert not await store.snooze_watch("T1", "C1", 1, until=clock.now, user_id="U1")
    await store.add_watch("T1", "C1", 1, "U1")
    until = datetime(2026, 3, 8, 9, 30, tzinfo=timezone(timedelta(hours=3)))
    assert await store.snooze_watch("T1", "C1", 1, until=until, user_id="U2")
    watch = await store.get_watch("T1", "C1", 1)
    assert watch.snoozed_until == until
    assert watch.snoozed_until.tzinfo == UTC  # handed back in UTC
    assert watch.snoozed_by == "U2"


async def test_acknowledge(store) -> None:
    assert not await store.acknowledge_watch("T1", "C1", 1, period=None, user_id="U1")
    await store.add_watch("T1", "C1", 1, "U1")
    assert await store.acknowledge_watch("T1", "C1", 1, period=date(2026, 4, 1), user_id="U3")
    watch = await store.get_watch("T1", "C1", 1)
    assert (watch.acknowledged_period, watch.acknowledged_by) == (date(2026, 4, 1), "U3")
    # A licence with no deactivation date is a period of its own: before any sweep says which
    # is current, its answer does not replace a dated one.
    assert not await store.acknowledge_watch("T1", "C1", 1, period=None, user_id="U4")
    watch = await store.get_watch("T1", "C1", 1)
    assert (watch.acknowledged_period, watch.acknowledged_by) == (date(2026, 4, 1), "U3")


LAST_YEAR, THIS_YEAR = date(2025, 12, 9), date(2026, 12, 9)


async def _fetched(store, clock, period) -> None:
    """The sweep's last fetch of location 1 in T1 found the licence ending on `period`."""
    await store.save_licence_summaries([LicenceSummary("T1", 1, period, True, clock.now)])


async def test_acknowledging_last_years_alert_leaves_this_years_acknowledgement(
    store, clock
) -> None:
    await store.add_watch("T1", "C1", 1, "U1")
    await _fetched(store, clock, THIS_YEAR)
    assert await store.current_period("T1", 1) == THIS_YEAR
    assert await store.acknowledge_watch("T1", "C1", 1, period=THIS_YEAR, user_id="U2")
    # Last year's alert, still in the channel, clicked now: this year's answer stands.
    assert not await store.acknowledge_watch("T1", "C1", 1, period=LAST_YEAR, user_id="U3")
    watch = await store.get_watch("T1", "C1", 1)
    assert (watch.acknowledged_period, watch.acknowledged_by) == (THIS_YEAR, "U2")
    # The other way round: last year's answer gives way to this year's.
    await store.add_watch("T1", "C2", 1, "U1")
    assert await store.acknowledge_watch("T1", "C2", 1, period=LAST_YEAR, user_id="U3")
    assert await store.acknowledge_watch("T1", "C2", 1, period=THIS_YEAR, user_id="U2")
    assert (await store.get_watch("T1", "C2", 1)).acknowledged_period == THIS_YEAR


async def test_snoozing_last_years_alert_leaves_this_years_snooze(store, clock) -> None:
    await store.add_watch("T1", "C1", 1, "U1")
    soon, later = clock.now + timedelta(days=1), clock.now + timedelta(days=7)
    await _fetched(store, clock, THIS_YEAR)
    assert await store.snooze_watch("T1", "C1", 1, until=soon, user_id="U2", period=THIS_YEAR)
    assert not await store.snooze_watch("T1", "C1", 1, until=later, user_id="U3", period=LAST_YEAR)
    watch = await store.get_watch("T1", "C1", 1)
    assert (watch.snoozed_until, watch.snoozed_by, watch.snoozed_period) == (
        soon,
        "U2",
        THIS_YEAR,
    )
    # A shortened licence (an earlier date) is the current period all the same.
    earlier = date(2026, 6, 1)
    await _fetched(store, clock, earlier)
    assert await store.snooze_watch("T1", "C1", 1, until=later, user_id="U3", period=earlier)
    assert (await store.get_watch("T1", "C1", 1)).snoozed_period == earlier


async def test_watch_state_is_per_channel(store, clock) -> None:
    await store.add_watch("T1", "C1", 1, "U1")
    await store.add_watch("T1", "C2", 1, "U1")
    await store.snooze_watch("T1", "C1", 1, until=clock.now + timedelta(days=1), user_id="U1")
    assert (await store.get_watch("T1", "C2", 1)).snoozed_until is None
    await store.remove_watch("T1", "C1", 1)
    assert [w.channel_id for w in await store.list_watches()] == ["C2"]
