"""Which locations a sweep fetches: a pure schedule over what the last fetch said and the clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from handlers.store import LicenceSummary, Watch
from sweep.policy import MIN_NEW_PER_SWEEP, Due, fetch_due, new_per_sweep, plan

DAYS = (30, 7, 1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A time of day where the sweep runs (its `today` is a local date)."""
    return datetime(day.year, day.month, day.day, hour, minute).astimezone()


TODAY = date(2026, 3, 10)
NOW = local(TODAY, 9)


def summary(
    days_left: int | None = 200,
    *,
    fetched_at: datetime = NOW - HOUR,
    active: bool = True,
    retry: bool = False,
    team: str = "T1",
    location: int = 42,
) -> LicenceSummary:
    end = TODAY + timedelta(days=days_left) if days_left is not None else None
    return LicenceSummary(team, location, end, active, fetched_at, retry)


def watch(**changes) -> Watch:
    base = Watch("T1", "C1", 42, "U1", NOW - 60 * DAY)
    return Watch(**{**base.__dict__, **changes})


def due(s: LicenceSummary | None, watches: list[Watch] | None = None, **kw) -> Due | None:
    return fetch_due(
        s,
        watches or [watch()],
        now=kw.get("now", NOW),
        today=kw.get("today", TODAY),
        alert_days=DAYS,
        interval=kw.get("interval", HOUR),
        refresh=kw.get("refresh", DAY),
    )


@pytest.mark.parametrize("days_left", [200, 31, 29, 8, 6, 2, None])
def test_a_licence_whose_next_mark_is_days_away_is_not_fetched(days_left) -> None:
    assert due(summary(days_left)) is None


def test_a_never_fetched_location_is_new() -> None:
    assert due(None) is Due.NEW


@pytest.mark.parametrize("days_left", [31, 8, 2, 0])  # tomorrow: 30, 7, 1 days left, expired
def test_a_mark_at_the_next_midnight_is_fetched_from_the_last_sweeps_before_it(days_left) -> None:
    late = local(TODAY, 23, 30)
    assert due(summary(days_left, fetched_at=late - HOUR), now=late) is Due.NEAR
    # Four hours before midnight, with hourly sweeps, three more sweeps come before it.
    evening = local(TODAY, 20)
    assert due(summary(days_left, fetched_at=evening - HOUR), now=evening) is None


def test_a_longer_interval_looks_further_ahead() -> None:
    evening = local(TODAY, 20)
    s = summary(8, fetched_at=evening - HOUR)
    assert due(s, now=evening, interval=6 * HOUR) is Due.NEAR


def test_a_mark_passed_since_the_last_fetch_is_fetched_at_once() -> None:
    # Fetched last night, 8 days left then; the sweeper was down over midnight.
    s = summary(8, fetched_at=local(TODAY, 21))
    tomorrow = TODAY + DAY
    assert due(s, now=local(tomorrow, 8), today=tomorrow) is Due.NEAR


def test_expired_inactive_and_unposted_are_fetched_every_sweep() -> None:
    assert due(summary(-1)) is Due.LAPSED
    assert due(summary(100, active=False)) is Due.LAPSED
    assert due(summary(5, retry=True)) is Due.RETRY


def test_a_new_watch_or_an_ended_snooze_is_fetched() -> None:
    s = summary(5, fetched_at=NOW - 2 * HOUR)
    assert due(s, [watch(created_at=NOW - HOUR)]) is Due.CHANGED
    assert due(s, [watch(snoozed_until=NOW - HOUR)]) is Due.CHANGED
    assert due(s, [watch(snoozed_until=NOW + HOUR)]) is None  # still snoozed
    assert due(s, [watch(snoozed_until=NOW - 3 * HOUR)]) is None  # ended before the fetch


def test_a_far_licence_is_fetched_again_before_the_refresh_time_is_up() -> None:
    # Hourly: the sweep 23 hours on is the last one before a day is up.
    assert due(summary(200, fetched_at=NOW - 23 * HOUR)) is Due.STALE
    assert due(summary(200, fetched_at=NOW - 22 * HOUR)) is None
    assert due(summary(200, fetched_at=NOW - 5 * DAY), refresh=7 * DAY) is None
    assert due(summary(200, fetched_at=NOW - 7 * DAY + HOUR), refresh=7 * DAY) is Due.STALE
    # A refresh time no longer than the interval: every sweep fetches everything.
    assert due(summary(200, fetched_at=NOW - HOUR), refresh=HOUR) is Due.STALE


def test_a_location_watched_from_two_workspaces_is_due_if_either_is() -> None:
    by_location = {42: [watch(), watch(team_id="T2")], 43: [watch(location_id=43)]}
    far = {("T1", 42): summary(200), ("T1", 43): summary(200, location=43)}
    result = plan(
        by_location, far, now=NOW, today=TODAY, alert_days=DAYS, interval=HOUR, refresh=DAY
    )
    # T2 never fetched 42 (its members' sessions may see another answer): fetched for T2.
    assert (result.fetch, result.deferred) == ([42], 1)


def test_the_first_sweep_of_a_large_set_is_spread_over_the_refresh_time() -> None:
    many = 100_000
    by_location = {
        i: [watch(location_id=i, created_at=NOW - DAY - i * timedelta(seconds=1))]
        for i in range(many)
    }
    first = plan(by_location, {}, now=NOW, today=TODAY, alert_days=DAYS, interval=HOUR, refresh=DAY)
    assert len(first.fetch) == new_per_sweep(many, interval=HOUR, refresh=DAY) == 4167
    assert first.new_later == many - 4167
    # The newest watches first: someone just set them up.
    assert sorted(first.fetch) == list(range(4167))
    # A small set is fetched whole by its first sweep.
    small = {i: by_location[i] for i in range(MIN_NEW_PER_SWEEP)}
    whole = plan(small, {}, now=NOW, today=TODAY, alert_days=DAYS, interval=HOUR, refresh=DAY)
    assert (len(whole.fetch), whole.new_later) == (MIN_NEW_PER_SWEEP, 0)
    # Spreading starts only past what one sweep may spend: 1,080 an hour at Altegio's limit.
    budget = 1080
    affordable = {i: by_location[i] for i in range(budget)}
    whole = plan(
        affordable,
        {},
        now=NOW,
        today=TODAY,
        alert_days=DAYS,
        interval=HOUR,
        refresh=DAY,
        budget=budget,
    )
    assert (len(whole.fetch), whole.new_later) == (budget, 0)
    more = {i: by_location[i] for i in range(budget + 1)}
    spread = plan(
        more, {}, now=NOW, today=TODAY, alert_days=DAYS, interval=HOUR, refresh=DAY, budget=budget
    )
    assert (len(spread.fetch), spread.new_later) == (budget, 1)


def test_every_mark_is_fetched_on_its_day_by_hourly_sweeps_at_a_fraction_of_the_cost() -> None:
    """One licence, 40 days of hourly sweeps at 17 past: every mark (30, 7, 1 days left and
    expired) is seen by the first sweep of its day, with a few dozen fetches instead of 960."""
    end = TODAY + timedelta(days=35)
    marks = {end - timedelta(days=n) for n in DAYS} | {end + DAY}
    s: LicenceSummary | None = None
    fetched: list[datetime] = []
    start = local(TODAY, 0, 17)
    for hour in range(40 * 24):
        now = start + hour * HOUR
        today = now.date()
        if due(s, now=now, today=today) is not None:
            fetched.append(now)
            s = LicenceSummary("T1", 42, end, True, now)
    first_sweep_of = {local(d, 0, 17) for d in marks}
    assert first_sweep_of <= set(fetched)
    expired_since = local(end + DAY, 0, 17)
    # Before it expired: one fetch every 23 hours, and the last three sweeps before each mark
    # and the first on its day; from then on every sweep (a renewal is news).
    before = [t for t in fetched if t < expired_since]
    assert len(before) <= 35 * 24 / 23 + 3 * len(marks)
    assert all(t in fetched for t in (expired_since, expired_since + HOUR))


def test_refreshes_take_what_the_budget_leaves_the_longest_unfetched_first() -> None:
    by_location = {i: [watch(location_id=i)] for i in range(10)}
    summaries = {
        ("T1", i): summary(200, location=i, fetched_at=NOW - DAY - i * HOUR) for i in range(8)
    }
    summaries["T1", 8] = summary(-3, location=8)  # expired: fetched whatever the budget
    summaries["T1", 9] = summary(200, location=9)  # fresh: not due
    result = plan(
        by_location,
        summaries,
        now=NOW,
        today=TODAY,
        alert_days=DAYS,
        interval=HOUR,
        refresh=DAY,
        budget=4,
    )
    assert result.fetch == [8, 7, 6, 5]
    assert (result.refresh_later, result.deferred) == (5, 6)
    assert result.due == {Due.LAPSED: 1, Due.STALE: 3}


def test_a_licence_near_a_mark_is_never_left_to_a_later_refresh() -> None:
    late = local(TODAY, 23, 30)
    by_location = {i: [watch(location_id=i)] for i in range(3)}
    # All three a day old; 0 has 7 days left tomorrow: due for its mark, whatever the budget.
    summaries = {("T1", i): summary(200, location=i, fetched_at=late - DAY) for i in range(3)}
    summaries["T1", 0] = summary(8, location=0, fetched_at=late - DAY)
    result = plan(
        by_location,
        summaries,
        now=late,
        today=TODAY,
        alert_days=DAYS,
        interval=HOUR,
        refresh=DAY,
        budget=1,
    )
    assert (result.fetch, result.due, result.refresh_later) == ([0], {Due.NEAR: 1}, 2)
