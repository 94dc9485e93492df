"""Pacing: the local GCRA bucket (fake clock and short real time) and the Redis-shared one."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid

import pytest

from api.ratelimit import NoLimit, RateLimiter, RedisRateLimiter, TokenBucket, build_limiter

# Timers may fire a hair early on some platforms; well below any interval tested here.
EPSILON = 0.004


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_reservations_are_spaced_one_interval_apart():
    clock = FakeClock()
    bucket = TokenBucket(5, headroom=0, clock=clock)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_burst_lets_that_many_through_then_paces():
    clock = FakeClock()
    bucket = TokenBucket(5, burst=3, headroom=0, clock=clock)
    assert [bucket.reserve() for _ in range(5)] == pytest.approx([0, 0, 0, 0.2, 0.4])


def test_quiet_spell_refills_but_never_beyond_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=2, headroom=0, clock=clock)
    [bucket.reserve() for _ in range(4)]
    clock.now += 60
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0, 0.1, 0.2])


def test_partial_refill():
    clock = FakeClock()
    bucket = TokenBucket(4, headroom=0, clock=clock)
    assert bucket.reserve() == 0
    clock.now += 0.1
    assert bucket.reserve() == pytest.approx(0.15)


def test_headroom_and_per_minute_stretch_the_spacing():
    assert TokenBucket(5).interval == pytest.approx(0.21)
    assert TokenBucket(5, headroom=0, per_minute=200).interval == pytest.approx(0.3)
    assert TokenBucket(5, headroom=0, per_minute=600).interval == pytest.approx(0.2)


def sliding_window_refusals(arrivals: list[float], limit: int) -> int:
    """What a server counting "more than `limit` in any second, ends included" refuses."""
    accepted: list[float] = []
    refused = 0
    for t in sorted(arrivals):
        if sum(1 for a in accepted if t - a <= 1.0) >= limit:
            refused += 1
        else:
            accepted.append(t)
    return refused


@pytest.mark.parametrize(("headroom", "expect_refusals"), [(0.0, True), (0.05, False)])
def test_headroom_absorbs_network_jitter(headroom, expect_refusals):
    rng = random.Random(7)
    clock = FakeClock()
    bucket = TokenBucket(50, headroom=headroom, clock=clock)
    departures = [clock.now + bucket.reserve() for _ in range(500)]
    arrivals = [t + rng.uniform(0, 0.02) for t in departures]  # up to 20 ms in transit
    assert (sliding_window_refusals(arrivals, 50) > 0) is expect_refusals


def test_burst_breaks_a_sliding_window_limit():
    clock = FakeClock()
    bucket = TokenBucket(5, burst=5, clock=clock)
    departures = [clock.now + bucket.reserve() for _ in range(20)]
    assert sliding_window_refusals(departures, 5) > 0


async def test_acquire_sleeps_for_the_reserved_slot():
    clock = FakeClock()
    bucket = TokenBucket(2, headroom=0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await bucket.acquire()
    assert clock.sleeps == pytest.approx([0.5, 1.0])


async def test_pause_holds_everyone():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, headroom=0, clock=clock, sleep=clock.sleep)
    await bucket.pause(2.0)
    await bucket.acquire()
    await bucket.acquire()
    assert clock.sleeps == pytest.approx([2.0, 2.1])


async def test_cancelled_waiter_gives_its_slot_back():
    bucket = TokenBucket(20)
    await bucket.acquire()
    waiter = asyncio.create_task(bucket.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    started = time.monotonic()
    await bucket.acquire()
    # The cancelled caller's slot was returned, so this one waits one interval, not two.
    assert time.monotonic() - started < 0.075


async def test_real_time_concurrent_callers_are_paced():
    n = 15
    bucket = TokenBucket(50.0)
    rate = 1 / bucket.interval
    stamps: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        stamps.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.monotonic() - started
    # Only the lower bound is a guarantee: a busy machine may wake a waiter late (which can
    # bunch the next wake-ups), but no grant can come before its slot. Exact spacing is
    # checked with the fake clock above.
    assert elapsed >= (n - 1) / rate - EPSILON
    assert len(stamps) == n


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(5, burst=0.5)
    with pytest.raises(ValueError):
        TokenBucket(5, per_minute=0)
    with pytest.raises(ValueError):
        TokenBucket(5, headroom=1)


async def test_build_limiter_and_protocol():
    assert isinstance(build_limiter(None), NoLimit)
    assert isinstance(build_limiter(0), NoLimit)
    local = build_limiter(5, per_minute=200)
    assert isinstance(local, TokenBucket) and local.rate == 5 and local.per_minute == 200
    for limiter in (local, NoLimit()):
        assert isinstance(limiter, RateLimiter)
    await NoLimit().acquire()


# --------------------------------------------------------------------------- Redis

@pytest.fixture
async def shared_key(redis_url):
    import redis.asyncio as redis

    # Unique per test, so concurrent runs against one Redis do not share a budget.
    key = f"altegio-bot-test:{uuid.uuid4().hex}"
    yield key
    client = redis.Redis.from_url(redis_url)
    await client.delete(key)
    await client.aclose()


async def test_redis_limiters_share_one_budget(redis_url, shared_key):
    per_limiter = 8
    first = RedisRateLimiter(redis_url, 40.0, key=shared_key)
    second = RedisRateLimiter(redis_url, 40.0, key=shared_key)
    rate = 1 / first.interval
    stamps: list[float] = []

    async def one(limiter: RedisRateLimiter) -> None:
        await limiter.acquire()
        stamps.append(time.monotonic())

    try:
        started = time.monotonic()
        await asyncio.gather(*(one(lim) for lim in (first, second) for _ in range(per_limiter)))
        elapsed = time.monotonic() - started
    finally:
        await first.aclose()
        await second.aclose()
    n = 2 * per_limiter
    stamps.sort()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # Separate buckets would each let 8 through in 0.175 s; together they need 0.375 s.
    assert (n - 1) / rate - EPSILON <= elapsed < (n - 1) / rate + 0.3
    assert min(gaps) >= 1 / rate - 0.01  # slack for the Redis round trip of each caller


async def test_redis_pause_is_seen_by_other_limiters(redis_url, shared_key):
    first = RedisRateLimiter(redis_url, 100, key=shared_key)
    second = RedisRateLimiter(redis_url, 100, key=shared_key)
    try:
        await first.pause(0.2)
        started = time.monotonic()
        await second.acquire()
        assert 0.2 - 0.02 <= time.monotonic() - started < 0.4
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_slot_key_expires(redis_url, shared_key):
    import redis.asyncio as redis

    limiter = RedisRateLimiter(redis_url, 10, key=shared_key)
    try:
        await limiter.acquire()
        client = redis.Redis.from_url(redis_url)
        ttl_ms = await client.pttl(shared_key)
        await client.aclose()
        assert 0 < ttl_ms <= 1200
        await limiter.reset()
    finally:
        await limiter.aclose()


async def test_redis_down_falls_back_to_local_pacing(caplog):
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 50, key="unused")
    try:
        with caplog.at_level(logging.WARNING, logger="altegio.api"):
            started = time.monotonic()
            for _ in range(4):
                await limiter.acquire()
            elapsed = time.monotonic() - started
    finally:
        await limiter.aclose()
    assert 3 * limiter.interval - EPSILON <= elapsed < 1.0
    warnings = [r for r in caplog.records if "redis rate limiter unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request


async def test_build_limiter_with_redis_url():
    limiter = build_limiter(5, redis_url="redis://127.0.0.1:6379/0", key="k")
    assert isinstance(limiter, RedisRateLimiter) and limiter.key == "k"
    await limiter.aclose()


class FlakyRedis:
    """Stands in for redis.asyncio.Redis: the script fails while `down` is set."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def register_script(self, _source: str):
        async def script(keys, args):
            self.calls += 1
            if self.down:
                raise ConnectionError("refused")
            return 0

        return script


async def test_redis_outage_and_recovery_are_logged_once_each(caplog):
    fake = FlakyRedis()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    limiter = RedisRateLimiter("redis://unused", 10, client=fake, sleep=sleep)
    with caplog.at_level(logging.INFO, logger="altegio.api"):
        await limiter.acquire()
        await limiter.acquire()  # paced by the local fallback meanwhile
        fake.down = False
        await limiter.acquire()
        await limiter.acquire()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    assert sleeps == pytest.approx([limiter.interval], abs=0.01)
    assert fake.calls == 4
    await limiter.aclose()  # not ours to close: must not touch the fake
