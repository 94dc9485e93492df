"""Several sweepers at once on one database, as separate processes would run them: each alert is
posted exactly once, the Altegio fetches are split between them, and a shared limit holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from api import AltegioClient, CacheTTLs, RedisRateLimiter, TokenBucket
from bot.settings import load_settings
from bot.slack_client import SWEEP_RETRIES, web_client
from bot.storage import SqlStore, generate_key, open_store
from handlers.config import HandlerConfig
from sweep.alerts import SweepSummary, sweep
from tests.alerts.support import OPS, SALES, cli_env, start_cli
from tests.fakes import PARTNER_TOKEN, TEAM_ID, FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for

LOCATIONS = range(7001, 7021)  # 20 locations lapsing within a week


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
async def watched(database_url: str, key: str, fake_altegio: FakeAltegio) -> str:
    """The database with 20 lapsing locations watched (half of them by two channels)."""
    store = await open_store(database_url, key)
    try:
        for location_id in LOCATIONS:
            fake_altegio.add_license(location_id, days_left=location_id % 7)
            await store.add_watch(TEAM_ID, OPS, location_id, "U0USER")
            if location_id % 2:
                await store.add_watch(TEAM_ID, SALES, location_id, "U0USER")
    finally:
        await store.close()
    return database_url


class Sweeper:
    """What one sweeper process holds: its own store (engine), Altegio client and Slack client."""

    def __init__(self, store: SqlStore, altegio: AltegioClient, settings) -> None:
        self.store = store
        self.altegio = altegio
        self.slack = web_client(settings, retries=SWEEP_RETRIES)

    async def sweep(self, owner: str) -> SweepSummary:
        return await sweep(self.altegio, self.store, self.slack, HandlerConfig(), owner=owner)


@pytest.fixture
async def make_sweeper(
    watched: str, key: str, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> AsyncIterator:
    settings = load_settings(env_file=None, **settings_for(fake_altegio, fake_slack))
    async with AsyncExitStack() as stack:

        async def make(limiter=None) -> Sweeper:
            store = await open_store(watched, key)
            stack.push_async_callback(store.close)
            altegio = AltegioClient(
                fake_altegio.base_url,
                PARTNER_TOKEN,
                limiter=limiter or TokenBucket(50.0),
                cache=CacheTTLs(license=0),
            )
            stack.push_async_callback(altegio.aclose)
            return Sweeper(store, altegio, settings)

        yield make


WATCHES = len(LOCATIONS) + len([i for i in LOCATIONS if i % 2])


def assert_each_alert_posted_once(fake_slack: FakeSlack) -> None:
    posted = [(m["channel"], m["blocks"][1]["fields"][0]["text"]) for m in fake_slack.messages]
    assert len(posted) == WATCHES == len(set(posted))


async def test_two_sweepers_at_once_post_each_alert_exactly_once_and_split_the_fetches(
    make_sweeper, watched: str, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.latency = 0.05
    first, second = await make_sweeper(), await make_sweeper()
    a, b = await asyncio.gather(first.sweep("sweeper-a"), second.sweep("sweeper-b"))
    assert a.posted + b.posted == WATCHES
    assert_each_alert_posted_once(fake_slack)
    assert a.fetched + a.elsewhere == b.fetched + b.elsewhere == len(LOCATIONS)
    fetches = len(fake_altegio.requests("/license/"))
    assert fetches == a.fetched + b.fetched
    if watched.startswith("postgresql"):
        # Each location fetched by one of them: the other left it alone.
        assert fetches == len(LOCATIONS)
    else:
        # SQLite serialises the two processes' writes, so one sweeper may finish (and hand its
        # locations back) before the other has looked at all of them: a few fetches twice.
        assert len(LOCATIONS) <= fetches < 2 * len(LOCATIONS)

    again = await asyncio.gather(first.sweep("sweeper-a"), second.sweep("sweeper-b"))
    assert sum(s.posted for s in again) == 0
    assert len(fake_slack.messages) == WATCHES


async def test_many_sweepers_racing_post_each_alert_exactly_once(
    make_sweeper, fake_slack: FakeSlack
) -> None:
    sweepers = [await make_sweeper() for _ in range(5)]
    summaries = await asyncio.gather(*(s.sweep(f"s{i}") for i, s in enumerate(sweepers)))
    assert sum(s.posted for s in summaries) == WATCHES
    assert_each_alert_posted_once(fake_slack)


async def test_two_sweepers_sharing_a_limit_through_redis_stay_under_it(
    make_sweeper, redis_url: str, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.limit_rate(per_second=10, per_minute=None)
    key = f"altegio-bot-test:{uuid.uuid4().hex}"
    limiters = [RedisRateLimiter(redis_url, 9, key=key) for _ in range(2)]
    try:
        # Slow answers, so each sweeper alone would keep several requests in flight.
        fake_altegio.latency = 0.2
        first, second = [await make_sweeper(limiter) for limiter in limiters]
        started = time.monotonic()
        a, b = await asyncio.gather(first.sweep("a"), second.sweep("b"))
        elapsed = time.monotonic() - started
    finally:
        for limiter in limiters:
            await limiter.reset()
            await limiter.aclose()
    statuses = [r.status for r in fake_altegio.requests("/license/")]
    assert statuses.count(429) == 0 and len(statuses) == len(LOCATIONS)
    assert fake_altegio.max_rate(1.0, path="/license/") <= 10
    assert a.posted + b.posted == WATCHES
    assert elapsed >= (len(LOCATIONS) - 1) / 9 * 0.95  # paced together, not 9 a second each


# -- real `altegio-bot alerts` processes -----------------------------------------------------


async def test_two_altegio_bot_alerts_processes_started_together_post_each_alert_once(
    watched: str, key: str, fake_altegio: FakeAltegio, fake_slack: FakeSlack, tmp_path
) -> None:
    fake_altegio.latency = 0.05
    env = cli_env(watched, key, fake_altegio, fake_slack)
    processes = [start_cli(env), start_cli(env)]
    outputs = [await asyncio.to_thread(p.communicate, timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert_each_alert_posted_once(fake_slack)
    logs = "".join(err for _, err in outputs)
    assert logs.count("alert sweep: ") >= 2 and "posted" in logs

    second = start_cli(env)
    _, err = await asyncio.to_thread(second.communicate, timeout=60)
    assert second.returncode == 0 and "posted 0," in err
    assert len(fake_slack.messages) == WATCHES
