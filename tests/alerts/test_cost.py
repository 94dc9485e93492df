"""What the sweep costs at Altegio, through the real bot and the fake Altegio: a licence with no
news possible before the next sweep is not fetched again, yet every mark is alerted on its day and
a change is noticed within ALERT_REFRESH (a day by default)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bot.storage import generate_key
from tests.alerts.support import OPS, alerts_in, run_sweep, text_of
from tests.bot_server import BotServer
from tests.fakes import TEAM_ID, FakeAltegio, FakeSlack

HOUR = timedelta(hours=1)
FAR, NEAR = range(2000, 2120), (3001, 3002, 3003, 3004)


@pytest.fixture
def db_bot(make_bot, database_url: str) -> BotServer:
    return make_bot(
        database_url=database_url,
        bot_encryption_key=generate_key(),
        license_cache_ttl=0,
        altegio_rate_limit=50,
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute).astimezone()


def watch(bot: BotServer, location_id: int) -> None:
    assert bot.call(bot.runtime.store.add_watch(TEAM_ID, OPS, location_id, "U0USER"))


def fetched(fake_altegio: FakeAltegio) -> list[int]:
    ids = [int(r.path.rsplit("/", 1)[-1]) for r in fake_altegio.requests("/license/")]
    fake_altegio.journal.clear()
    return sorted(ids)


async def test_a_second_sweep_fetches_only_the_locations_near_a_mark(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    today = date.today()
    for location_id in FAR:
        fake_altegio.add_license(location_id, days_left=200)
        watch(db_bot, location_id)
    for location_id in NEAR:  # 7 days left the day after tomorrow
        fake_altegio.add_license(location_id, days_left=9)
        watch(db_bot, location_id)
    tomorrow = today + timedelta(days=1)

    first = run_sweep(db_bot, now=local(tomorrow, 22, 50), today=tomorrow)
    assert fetched(fake_altegio) == sorted([*FAR, *NEAR])
    assert first.posted == len(NEAR)  # 30 days

    # Ten minutes before midnight the next mark of the near ones is in reach; nothing else is.
    second = run_sweep(db_bot, now=local(tomorrow, 23, 50), today=tomorrow)
    assert fetched(fake_altegio) == sorted(NEAR)
    assert (second.fetched, second.deferred, second.posted) == (len(NEAR), len(FAR), 0)

    # The first sweep of their day posts the 7-day alerts, still without the far ones.
    after = today + timedelta(days=2)
    third = run_sweep(db_bot, now=local(after, 0, 50), today=after)
    assert fetched(fake_altegio) == sorted(NEAR)
    assert third.posted == len(NEAR)
    assert all("7 days" in text_of(m) for m in alerts_in(fake_slack)[-len(NEAR) :])


async def test_hourly_sweeps_fetch_every_location_once_then_only_those_with_news_possible(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """Two sweeps an hour apart, as cron runs `altegio-bot alerts`: hourly, ALERT_REFRESH a day,
    9 % of Altegio's 12,000 calls an hour (1,080 a sweep). Counted at the fake Altegio."""
    far = range(5000, 5300)  # 300 expiring in 200 days or more
    soon = (6001, 6002, 6003)  # 3 days left: alerted now; the next mark is two days away
    tonight = (6101, 6102)  # 8 days left: the 7-day mark begins at midnight
    lapsed = (6201,)  # expired two days ago: a renewal is news, so every sweep asks
    for n, location_id in enumerate(far):
        fake_altegio.add_license(location_id, days_left=200 + n)
    for ids, days_left in ((soon, 3), (tonight, 8), (lapsed, -2)):
        for location_id in ids:
            fake_altegio.add_license(location_id, days_left=days_left)
    for location_id in [*far, *soon, *tonight, *lapsed]:
        watch(db_bot, location_id)
    cron = {"interval": HOUR, "refresh": timedelta(days=1), "hourly_budget": 12_000}
    day = date.today()  # the fake's dates count from today

    first = run_sweep(db_bot, now=local(day, 23, 10), today=day, **cron)
    calls = Counter(fetched_all(fake_altegio))
    # Every location once: a set within one sweep's budget is not spread over later sweeps.
    assert calls == Counter([*far, *soon, *tonight, *lapsed])
    assert (first.new_later, first.refresh_later) == (0, 0)
    assert first.posted == len(soon) + len(tonight) + len(lapsed)

    after = day + timedelta(days=1)
    second = run_sweep(db_bot, now=local(after, 0, 10), today=after, **cron)
    assert sorted(fetched_all(fake_altegio)) == sorted([*tonight, *lapsed])
    assert second.posted == len(tonight)  # their 7-day alerts, on the mark's day
    assert all("7 days" in text_of(m) for m in alerts_in(fake_slack)[-len(tonight) :])


def fetched_all(fake_altegio: FakeAltegio) -> list[int]:
    """Every GET /license since the last call, one id per request (repeats kept)."""
    ids = [int(r.path.rsplit("/", 1)[-1]) for r in fake_altegio.requests("/license/")]
    fake_altegio.journal.clear()
    return ids


async def test_changes_to_a_far_licence_are_noticed_within_a_day(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    renewed = fake_altegio.add_license(1001, days_left=5)
    deactivated = fake_altegio.add_license(1002, days_left=200)
    watch(db_bot, 1001)
    watch(db_bot, 1002)
    start = datetime.now().astimezone() + HOUR
    assert run_sweep(db_bot, now=start).posted == 1  # 1001: 7 days
    fetched(fake_altegio)

    # A short renewal (a new period under 30 days) and a deactivation, just after that sweep.
    renewed.deactivation_date = date.today() + timedelta(days=20)
    deactivated.active = False
    posted_at, calls = {}, {}
    for hour in range(1, 25):
        summary = run_sweep(db_bot, now=start + hour * HOUR)
        calls[hour] = fetched(fake_altegio)
        if summary.posted:
            posted_at[hour] = summary.posted
    # Hourly sweeps, a day's refresh: the sweep before the day is up fetches both, and nothing
    # before it; from then on the inactive licence is fetched every sweep (reactivation is news).
    assert posted_at == {23: 2}
    assert {h: ids for h, ids in calls.items() if ids} == {23: [1001, 1002], 24: [1002]}
    shown = [text_of(m) for m in alerts_in(fake_slack)[-2:]]
    assert any("20 days" in t for t in shown) and any("not active" in t for t in shown)


async def test_alert_refresh_is_a_setting(make_bot, fake_altegio: FakeAltegio) -> None:
    bot = make_bot(bot_encryption_key=generate_key(), license_cache_ttl=0, alert_refresh="0")
    fake_altegio.add_license(1001, days_left=200)
    watch(bot, 1001)
    from bot.slack_client import SWEEP_RETRIES, web_client
    from bot.sweeper import sweep_once

    runtime = bot.runtime
    client = web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES)
    for _ in range(2):
        bot.call(sweep_once(runtime, client, prune=False))
    # 0: every licence on every sweep, as before the schedule.
    assert len(fake_altegio.requests("/license/1001")) == 2
