"""The alert sweep through the real bot (served, with its own store and Altegio client) and the
fakes, on SQLite and PostgreSQL: what is posted, when, once, and what is left for the next sweep."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.storage import generate_key
from handlers.store import AlertKey, StoreUnavailable
from tests.alerts.support import OPS, SALES, alerts_in, command, run_sweep, text_of
from tests.bot_server import BotServer
from tests.fakes import TEAM_ID, FakeAltegio, FakeSlack, SlackSender


@pytest.fixture
def db_bot(make_bot, database_url: str) -> BotServer:
    """A bot on each database; no licence cache, so each sweep sees Altegio's current answer."""
    return make_bot(
        database_url=database_url,
        bot_encryption_key=generate_key(),
        license_cache_ttl=0,
        altegio_rate_limit=50,
    )


def sent_kinds(bot: BotServer, location_id: int, period: date | None, channel: str = OPS) -> set:
    return bot.call(bot.runtime.store.sent_alert_kinds(TEAM_ID, channel, location_id, period))


def add_watch(bot: BotServer, location_id: int, channel: str = OPS) -> None:
    assert bot.call(bot.runtime.store.add_watch(TEAM_ID, channel, location_id, "U0USER"))


def in_days(n: int) -> date:
    return date.today() + timedelta(days=n)


async def test_one_alert_for_the_lapsing_location_and_none_on_the_next_sweep(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Business", days_left=5)
    fake_altegio.add_license(1002, plan="Start", days_left=200)
    async with SlackSender(db_bot.url) as slack:
        assert "now watches location 1001" in await command(slack, fake_slack, "watch 1001")
        assert "now watches location 1002" in await command(slack, fake_slack, "watch 1002")

    summary = run_sweep(db_bot)
    (alert,) = alerts_in(fake_slack)
    shown = text_of(alert)
    assert alert["channel"] == OPS
    assert "Location 1001" in shown and "1002" not in shown
    assert "Business" in shown and "5 days" in shown
    assert f"{in_days(5).day} {in_days(5):%b %Y}" in shown
    assert (summary.locations, summary.fetched, summary.posted) == (2, 2, 1)
    # The 30-day threshold was crossed too, but the 7-day alert stands for it.
    assert sent_kinds(db_bot, 1001, in_days(5)) == {"days:7", "days:30"}

    # Neither can have news before the next sweep (1001's next mark, 1 day left, is 4 days off).
    again = run_sweep(db_bot)
    assert len(alerts_in(fake_slack)) == 1
    assert (again.fetched, again.deferred, again.posted) == (0, 2, 0)


async def test_each_location_is_fetched_once_however_many_channels_watch_it(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=3)
    for channel in (OPS, SALES, "C0THIRD"):
        add_watch(db_bot, 1001, channel)
    summary = run_sweep(db_bot)
    assert len(fake_altegio.requests("/license/1001")) == 1
    assert sorted(m["channel"] for m in alerts_in(fake_slack)) == sorted([OPS, SALES, "C0THIRD"])
    assert summary.posted == 3


async def test_unwatch_stops_alerts(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert "no longer watches location 1001" in await command(slack, fake_slack, "unwatch 1001")
        assert "was not watching location 1001" in await command(slack, fake_slack, "unwatch 1001")
    summary = run_sweep(db_bot)
    assert alerts_in(fake_slack) == []
    assert (summary.watches, summary.posted) == (0, 0)


async def test_slack_429_once_still_delivers_the_alert_once(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    add_watch(db_bot, 1001)
    fake_slack.rate_limit("chat.postMessage", retry_after=0)
    summary = run_sweep(db_bot)
    attempts = fake_slack.calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert len(alerts_in(fake_slack)) == 1
    assert summary.posted == 1 and summary.post_failures == 0
    assert sent_kinds(db_bot, 1001, in_days(5)) == {"days:7", "days:30"}
    assert run_sweep(db_bot).posted == 0
    assert len(alerts_in(fake_slack)) == 1


async def test_slack_failing_records_nothing_and_the_next_sweep_posts_it(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    add_watch(db_bot, 1001)
    fake_slack.fail("chat.postMessage", status=503, times=None)
    failed = run_sweep(db_bot)
    assert (failed.posted, failed.post_failures) == (0, 1)
    assert len(fake_slack.calls("chat.postMessage")) == 3  # the first try and two retries
    assert alerts_in(fake_slack) == []
    assert sent_kinds(db_bot, 1001, in_days(5)) == set()

    fake_slack.rules.clear()  # Slack is back
    recovered = run_sweep(db_bot)
    assert (recovered.posted, recovered.post_failures) == (1, 0)
    assert len(alerts_in(fake_slack)) == 1


@pytest.mark.parametrize("body", ["html", "truncated"])
async def test_a_slack_5xx_that_is_not_json_is_a_post_failure_and_the_next_sweep_posts_it(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio, caplog, body: str
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    add_watch(db_bot, 1001)
    # A proxy's HTML page, or a body that claims to be JSON and is not.
    fake_slack.fail("chat.postMessage", status=502, body=body, times=None)
    with caplog.at_level(logging.WARNING, logger="altegio.alerts"):
        failed = run_sweep(db_bot)
    assert (failed.posted, failed.post_failures) == (0, 1)
    assert alerts_in(fake_slack) == []
    assert sent_kinds(db_bot, 1001, in_days(5)) == set()
    # Counted and explained as Slack's refusal, not as a crash of the sweep.
    records = [r for r in caplog.records if r.name == "altegio.alerts"]
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
    assert any("Slack did not take the alert" in r.getMessage() for r in records)

    fake_slack.rules.clear()  # Slack is back
    recovered = run_sweep(db_bot)
    assert (recovered.posted, recovered.post_failures) == (1, 0)
    assert len(alerts_in(fake_slack)) == 1


async def test_an_altegio_error_for_one_location_does_not_stop_the_others(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    for location_id in (2001, 3001, 4001):
        fake_altegio.add_license(location_id, days_left=5)
        add_watch(db_bot, location_id)
    fake_altegio.fail_always("/license/3001", status=500)
    fake_altegio.deny(4001)
    summary = run_sweep(db_bot)
    assert sorted(m["blocks"][0]["text"]["text"].split("*")[1] for m in alerts_in(fake_slack)) == [
        "Location 2001"
    ]
    assert (summary.locations, summary.fetched, summary.failed, summary.posted) == (3, 1, 2, 1)

    fake_altegio.reset()  # Altegio answers again: the skipped locations are alerted now
    for location_id in (2001, 3001, 4001):
        fake_altegio.add_license(location_id, days_left=5)
    assert run_sweep(db_bot).posted == 2
    assert len(alerts_in(fake_slack)) == 3


async def test_a_renewed_licence_starts_afresh(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    licence = fake_altegio.add_license(1001, days_left=5)
    add_watch(db_bot, 1001)
    assert run_sweep(db_bot).posted == 1

    # The sweeps notice a renewal once ALERT_REFRESH (a day) is up: the licence, 4 days from its
    # next mark, is not fetched again before that.
    day = timedelta(days=1)
    now = datetime.now(UTC)
    licence.deactivation_date = in_days(365)  # renewed for a year: nothing to say
    assert run_sweep(db_bot, now=now + day).posted == 0
    licence.deactivation_date = in_days(20)  # a short renewal: a new period, under 30 days
    assert run_sweep(db_bot, now=now + 2 * day).posted == 1
    first, second = alerts_in(fake_slack)
    assert "5 days" in text_of(first) and "20 days" in text_of(second)
    assert sent_kinds(db_bot, 1001, in_days(20)) == {"days:30"}
    assert run_sweep(db_bot, now=now + 2 * day).posted == 0


async def test_a_first_sweep_under_several_thresholds_posts_once_and_never_the_larger_ones(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=1)
    add_watch(db_bot, 1001)
    assert run_sweep(db_bot).posted == 1
    (alert,) = alerts_in(fake_slack)
    assert "1 day" in text_of(alert)
    assert sent_kinds(db_bot, 1001, in_days(1)) == {"days:1", "days:7", "days:30"}
    # Tomorrow it lapses today, still under every threshold: nothing new to say.
    assert run_sweep(db_bot, today=date.today() + timedelta(days=1)).posted == 0


async def test_thresholds_are_posted_one_by_one_as_the_date_nears(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=40)
    add_watch(db_bot, 1001)
    posted = []
    for days_later in (0, 10, 11, 20, 33, 34, 39, 40, 41):
        today = date.today() + timedelta(days=days_later)
        posted.append(run_sweep(db_bot, today=today).posted)
    assert posted == [0, 1, 0, 0, 1, 0, 1, 0, 1]  # 30, 7, 1 days left, then expired
    kinds = sent_kinds(db_bot, 1001, in_days(40))
    assert kinds == {"days:30", "days:7", "days:1", "expired"}
    assert "expired 1 day ago" in text_of(alerts_in(fake_slack)[-1])


async def test_an_inactive_licence_alerts_once(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=100, active=False)
    add_watch(db_bot, 1001)
    assert run_sweep(db_bot).posted == 1
    assert "not active" in text_of(alerts_in(fake_slack)[0])
    assert run_sweep(db_bot).posted == 0


async def test_a_licence_altegio_says_must_be_renewed_alerts_once(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    for location_id in (1001, 1002, 1003):
        fake_altegio.add_license(location_id, days_left=100)
        add_watch(db_bot, location_id)
    fake_altegio.deny(1001, status=402, message="Payment required")
    fake_altegio.deny(1002, status=403, message="The licence must be renewed")
    fake_altegio.deny(1003, status=403, message="No access to this location")
    summary = run_sweep(db_bot)
    shown = sorted(text_of(m) for m in alerts_in(fake_slack))
    assert len(shown) == 2
    assert "Location 1001" in shown[0] and "must be renewed" in shown[0]
    assert "Location 1002" in shown[1] and "must be renewed" in shown[1]
    # A plain 403 is a missing permission, not news about the licence: skipped, logged.
    assert (summary.fetched, summary.failed, summary.posted) == (2, 1, 2)
    assert sent_kinds(db_bot, 1001, None) == {"renewal"}
    assert run_sweep(db_bot).posted == 0  # once per licence period


async def test_the_bot_not_in_the_channel_is_tried_once_per_sweep_and_delivered_once_invited(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    for location_id in (1001, 1002, 1003):
        fake_altegio.add_license(location_id, days_left=5)
        add_watch(db_bot, location_id, SALES)
    fake_altegio.add_license(1004, days_left=5)
    add_watch(db_bot, 1004, OPS)
    fake_slack.fail("chat.postMessage", error="not_in_channel", times=None)
    summary = run_sweep(db_bot)
    assert summary.unreachable_channels == 2
    # One refused call per channel, not one per alert.
    assert len(fake_slack.calls("chat.postMessage")) == 2
    assert summary.posted == 0 and summary.post_failures == 0
    assert sent_kinds(db_bot, 1001, in_days(5), SALES) == set()

    fake_slack.rules.clear()  # someone invited the bot
    assert run_sweep(db_bot).posted == 4
    assert len(alerts_in(fake_slack, SALES)) == 3


async def test_a_claim_left_by_a_killed_sweep_is_posted_once_after_its_lease(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    add_watch(db_bot, 1001)
    # A sweeper claimed the alert, then died before posting it (nor releasing its claim).
    key = AlertKey(TEAM_ID, OPS, 1001, in_days(5), "days:7")
    assert db_bot.call(db_bot.runtime.store.claim_alert(key, owner="killed", lease_seconds=1))
    blocked = run_sweep(db_bot)
    assert (blocked.posted, blocked.skipped) == (0, 1)
    assert alerts_in(fake_slack) == []

    await asyncio.sleep(1.2)  # the dead sweeper's lease runs out
    assert run_sweep(db_bot).posted == 1
    assert run_sweep(db_bot).posted == 0
    assert len(alerts_in(fake_slack)) == 1


async def test_the_sweep_uses_the_service_account_token(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("service@example.com", "pw")
    bot = make_bot(altegio_user_token=user.user_token)
    fake_altegio.add_license(1001, days_left=5)
    add_watch(bot, 1001)
    assert run_sweep(bot).posted == 1
    (request,) = fake_altegio.requests("/license/1001")
    assert request.user_token == user.user_token


async def test_fetches_stay_under_the_rate_limit_with_no_429(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    # A little under Altegio's limit: the fake runs in this process, so under load a request
    # can reach it late and bunch up with the next ones (the bench measures the exact limit).
    bot = make_bot(altegio_rate_limit=9)
    fake_altegio.limit_rate(per_second=10, per_minute=None)
    for location_id in range(5001, 5031):
        fake_altegio.add_license(location_id, days_left=5 if location_id % 3 == 0 else 300)
        add_watch(bot, location_id)
    started = time.monotonic()
    summary = run_sweep(bot)
    elapsed = time.monotonic() - started
    statuses = [r.status for r in fake_altegio.requests("/license/")]
    assert statuses.count(429) == 0 and len(statuses) == 30
    assert fake_altegio.max_rate(1.0, path="/license/") <= 10
    assert (summary.fetched, summary.posted) == (30, 10)
    assert 2.8 < elapsed < 7  # 30 fetches at 9 a second


async def test_snoozed_until_in_the_future_posts_nothing_and_its_end_reminds_once(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=20)
    add_watch(db_bot, 1001)
    assert run_sweep(db_bot).posted == 1  # 30 days
    now = datetime.now(UTC)
    until = now + timedelta(days=1)
    store = db_bot.runtime.store
    assert db_bot.call(store.snooze_watch(TEAM_ID, OPS, 1001, until=until, user_id="U0USER"))
    snoozed = run_sweep(db_bot, today=date.today() + timedelta(days=14), now=now)
    assert (snoozed.posted, snoozed.skipped) == (0, 1)  # 6 days left, but snoozed

    after = until + timedelta(minutes=1)
    reminded = run_sweep(db_bot, today=date.today() + timedelta(days=14), now=after)
    assert reminded.posted == 1
    assert "Snooze over" in text_of(alerts_in(fake_slack)[-1])
    # The reminder stood for the 7-day alert that fell due while snoozed.
    assert run_sweep(db_bot, today=date.today() + timedelta(days=14), now=after).posted == 0
    assert len(alerts_in(fake_slack)) == 2


async def test_a_sweep_stopped_half_way_hands_everything_back_for_the_next(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    for location_id in (1001, 1002):
        fake_altegio.add_license(location_id, days_left=5)
        add_watch(db_bot, location_id)
    stall = fake_altegio.delay(30, "/license/1002")
    runtime = db_bot.runtime
    from bot.settings import handler_config
    from bot.slack_client import SWEEP_RETRIES, web_client
    from sweep.alerts import sweep

    stopped = asyncio.run_coroutine_threadsafe(
        sweep(
            runtime.altegio,
            runtime.store,
            web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES),
            handler_config(runtime.settings),
            owner="stopped",
        ),
        db_bot._loop,
    )
    await fake_altegio.wait_for_requests_async(1, path="/license/1002", timeout=10)
    await fake_slack.wait_for("chat.postMessage", timeout=10)
    stopped.cancel()  # as SIGTERM does to `altegio-bot alerts`
    await asyncio.sleep(0.5)
    fake_altegio.rules.clear()
    stall.times = 0
    # Nothing is left claimed: the next sweep, right away, finishes the job, once.
    assert run_sweep(db_bot).posted == 1
    assert sorted(m["blocks"][1]["fields"][0]["text"] for m in alerts_in(fake_slack)) == [
        "*Location*\n1001",
        "*Location*\n1002",
    ]


class FlakyStore:
    """The bot's real store, with the database failing for the calls `fail` picks."""

    def __init__(self, store, fail) -> None:
        self._store = store
        self._fail = fail

    def __getattr__(self, name: str):
        method = getattr(self._store, name)

        async def call(*args, **kwargs):
            if self._fail(name, args):
                raise StoreUnavailable("the database is unreachable")
            return await method(*args, **kwargs)

        return call


async def test_the_database_failing_for_some_calls_skips_only_what_it_touched(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot(altegio_rate_limit=50)
    from bot.settings import handler_config
    from bot.slack_client import SWEEP_RETRIES, web_client
    from sweep.alerts import bucket_of, lease_name, sweep

    ids = list(range(3001, 3031))
    lost_bucket = bucket_of(ids[0])
    in_lost_bucket = [i for i in ids if bucket_of(i) == lost_bucket]
    lost_reading = next(i for i in ids if bucket_of(i) != lost_bucket)
    for location_id in ids:
        fake_altegio.add_license(location_id, days_left=5)
        add_watch(bot, location_id)

    def fail(name: str, args: tuple) -> bool:
        if name == "claim_lease":
            return args[0] == lease_name(lost_bucket)
        return name == "sent_alert_kinds" and args[2] == lost_reading

    runtime = bot.runtime
    summary = bot.call(
        sweep(
            runtime.altegio,
            FlakyStore(runtime.store, fail),
            web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES),
            handler_config(runtime.settings),
            owner="flaky",
        ),
        timeout=60,
    )
    assert summary.failed == len(in_lost_bucket)
    assert summary.post_failures == 1
    assert summary.posted == len(ids) - len(in_lost_bucket) - 1
    assert run_sweep(bot).posted == len(in_lost_bucket) + 1  # the next sweep catches up
