"""Pacing: the local GCRA bucket (fake clock and short real time) and the Redis-shared one."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from api.lanes import LaneLimiter
from api.ratelimit import (
    NoLimit,
    RateLimiter,
    RedisRateLimiter,
    Sleep,
    TokenBucket,
    build_limiter,
)

T = TypeVar("T")

# Timers may fire a hair early on some platforms; well below any interval tested here.
EPSILON = 0.004


class FakeClock:
    """A clock whose sleeps return at once, exactly on time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


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
    granted = []
    for _ in range(3):
        await bucket.acquire()
        granted.append(clock.now)
    assert clock.sleeps == pytest.approx([0.5, 0.5])
    assert granted == pytest.approx([1000.0, 1000.5, 1001.0])


async def test_pause_holds_everyone():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, headroom=0, clock=clock, sleep=clock.sleep)
    await bucket.pause(2.0)
    await bucket.acquire()
    await bucket.acquire()
    assert clock.sleeps == pytest.approx([2.0, 0.1])
    assert clock.now == pytest.approx(1002.1)


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
    assert isinstance(local, LaneLimiter)
    bucket = local.slots
    assert isinstance(bucket, TokenBucket) and bucket.rate == 5 and bucket.per_minute == 200
    # Several processes without Redis: each takes its share of the one budget.
    half = build_limiter(5, per_minute=200, share=0.5).slots
    assert half.rate == 2.5 and half.per_minute == 100
    for limiter in (local, NoLimit()):
        assert isinstance(limiter, RateLimiter)
    await NoLimit().acquire()


# --------------------------------------------------------------------------- late wake-ups


class VirtualTime:
    """A clock, and sleeps for any number of simulated processes, in which time moves only when
    every task waits on one of those sleeps, so wake-ups are exactly as late as a test says.

    Each process has an event loop of its own: when it wakes for its earliest timer,
    `late(deadline)` says how long after that timer's deadline it gets a CPU, and every timer of
    that process due by then fires in the same instant, as on a loop that stalled.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self._timers: dict[str, list[tuple[float, int, asyncio.Future[None]]]] = {}
        self._lateness: dict[str, Callable[[float], float]] = {}
        self._drawn: dict[str, float] = {}
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    def process(self, name: str, late: Callable[[float], float] = lambda _: 0.0) -> Sleep:
        self._timers[name] = []
        self._lateness[name] = late

        async def sleep(seconds: float) -> None:
            future = asyncio.get_running_loop().create_future()
            heapq.heappush(self._timers[name], (self.now + seconds, next(self._order), future))
            await future

        return sleep

    def _sleeping(self) -> int:
        return sum(len(timers) for timers in self._timers.values())

    async def run(self, *calls: Awaitable[T]) -> list[T]:
        tasks = [asyncio.ensure_future(call) for call in calls]
        try:
            while True:
                await self._until_all_sleep(tasks)
                if all(task.done() for task in tasks):
                    return [task.result() for task in tasks]
                self._fire_next()
        finally:
            for task in tasks:
                task.cancel()

    async def _until_all_sleep(self, tasks: list[asyncio.Task[Any]]) -> None:
        # Real time only passes here for Redis round trips.
        give_up = time.monotonic() + 10
        while self._sleeping() < sum(not task.done() for task in tasks):
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            assert time.monotonic() < give_up, "a task neither finished nor slept"
            await asyncio.sleep(0)

    def _fire_next(self) -> None:
        def wakes_at(name: str) -> float:
            deadline = self._timers[name][0][0]
            if name not in self._drawn:
                self._drawn[name] = self._lateness[name](deadline)
            return deadline + self._drawn[name]

        name = min((n for n, timers in self._timers.items() if timers), key=wakes_at)
        self.now = max(self.now, wakes_at(name))
        del self._drawn[name]
        timers = self._timers[name]
        while timers and timers[0][0] <= self.now:
            heapq.heappop(timers)[2].set_result(None)


async def granted(limiter: RateLimiter, clock: VirtualTime) -> float:
    await limiter.acquire()
    return clock.now


def gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [b - a for a, b in itertools.pairwise(ordered)]


def stalls(first: int, seconds: float) -> Callable[[float], float]:
    """The `first`-th wake-up of a process (from 0) comes `seconds` late, the others on time."""
    count = itertools.count()
    return lambda _: seconds if next(count) == first else 0.0


class BusyMachine:
    """When a process gets a CPU: a millisecond or two after a timer is due, except during
    stalls (waiting for a CPU, or a long callback) of 20 to 150 ms, `per_second` on average."""

    def __init__(self, seed: int, per_second: float = 1.0, start: float = 1000.0) -> None:
        self.rng = random.Random(seed)
        self.stalls: list[tuple[float, float]] = []
        t = start
        while t < start + 120:
            t += self.rng.expovariate(per_second)
            self.stalls.append((t, t + self.rng.uniform(0.02, 0.15)))

    def __call__(self, deadline: float) -> float:
        jitter = self.rng.uniform(0, 0.002)
        for begin, end in self.stalls:
            if begin <= deadline < end:
                return end - deadline + jitter
        return jitter

    def stalled(self, until: float) -> float:
        return sum(min(end, until) - begin for begin, end in self.stalls if begin < until)


def test_late_tolerance_leaves_room_in_every_window():
    assert TokenBucket(50).late_tolerance == pytest.approx(0.0105)  # half of the 21 ms interval
    # 5/s with 5 % headroom: 5 slots take 1.05 s, leaving 50 ms, half of which may be late.
    assert TokenBucket(5).late_tolerance == pytest.approx(0.025)
    assert TokenBucket(5, per_minute=200).late_tolerance == pytest.approx(0.1575)
    assert TokenBucket(50, headroom=0).late_tolerance == pytest.approx(0.0)
    for rate, per_minute in [(50, None), (5, None), (5, 200), (2, 100), (120, None)]:
        bucket = TokenBucket(rate, per_minute=per_minute)
        worst = math.floor((1 + bucket.late_tolerance) / bucket.interval) + 1
        assert worst <= rate


async def test_a_late_wake_up_does_not_send_its_neighbours_together():
    clock = VirtualTime()
    # The first wake-up (for the second caller) comes 100 ms late: the waiters for the next four
    # slots are due by then too, and wake with it.
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", stalls(0, 0.1)))
    start = clock.now
    times = await clock.run(*(granted(bucket, clock) for _ in range(12)))
    interval, late = bucket.interval, bucket.late_tolerance
    assert times == sorted(times)  # in the order they asked
    assert times[1] == pytest.approx(start + interval + 0.1)  # the late one went, and alone
    assert min(gaps(times)) >= interval - late - 1e-9
    assert all(gap == pytest.approx(interval) for gap in gaps(times)[2:])
    # The stall cost what it lasted (less the tolerance), not a slot per waiter it delayed.
    assert times[-1] == pytest.approx(start + 11 * interval + 0.1 - late)


async def test_a_caller_arriving_during_a_stall_does_not_go_with_the_stalled_waiters():
    clock = VirtualTime()
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", stalls(0, 0.1)))
    sleep = clock.process("elsewhere")
    start = clock.now

    async def arrives_later() -> float:
        await sleep(0.09)  # the bot's loop is stalled: its three waiters are all overdue
        return await granted(bucket, clock)

    *queued, newcomer = await clock.run(
        *(granted(bucket, clock) for _ in range(4)), arrives_later()
    )
    assert newcomer == pytest.approx(start + 0.09)  # the free slot it found
    assert min(gaps([*queued, newcomer])) >= bucket.interval - bucket.late_tolerance - 1e-9


async def test_a_loop_always_late_still_uses_every_slot():
    clock = VirtualTime()
    lag = 0.015  # past the tolerance, within an interval
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", lambda _: lag))
    start = clock.now
    times = await clock.run(*(granted(bucket, clock) for _ in range(20)))
    # Uniformly late is harmless: the schedule moves back once, then every slot is used.
    assert times[-1] == pytest.approx(start + 19 * bucket.interval + lag)
    assert all(gap == pytest.approx(bucket.interval) for gap in gaps(times)[1:])


async def test_a_loop_late_by_more_than_an_interval_is_slowed_not_stopped():
    clock = VirtualTime()
    lag = 0.05
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", lambda _: lag))
    start = clock.now
    times = await clock.run(*(granted(bucket, clock) for _ in range(20)))
    # It cannot wake often enough for every slot without sending two at once; it sends less.
    assert min(gaps(times)) >= bucket.interval - bucket.late_tolerance - 1e-9
    assert times[-1] - start <= 19 * (bucket.interval + lag) + 1e-9


async def test_sliding_window_holds_on_a_busy_machine():
    clock = VirtualTime()
    machine = BusyMachine(seed=11)
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", machine))
    start = clock.now
    n = 1000
    times = await clock.run(*(granted(bucket, clock) for _ in range(n)))
    assert sliding_window_refusals(times, 50) == 0
    assert min(gaps(times)) >= bucket.interval - bucket.late_tolerance - 1e-9
    # The stalls cost at most the time they lasted (and the jitter of a wake-up or two).
    end = max(times)
    print(end - start, (n - 1) * bucket.interval, machine.stalled(end))
    assert end - start <= (n - 1) * bucket.interval + machine.stalled(end) + 0.01


async def test_a_cancelled_waiter_gives_its_slot_back_after_the_schedule_moved():
    clock = VirtualTime()
    bucket = TokenBucket(50, clock=clock, sleep=clock.process("bot", stalls(0, 0.1)))
    times = await clock.run(granted(bucket, clock), granted(bucket, clock))
    waiter = asyncio.ensure_future(bucket.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    # The next caller waits as if the cancelled one had never come.
    assert times[1] == clock.now
    assert bucket.reserve() == pytest.approx(bucket.interval - bucket.late_tolerance)


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
    # Separate buckets would each let 8 through in 0.175 s; together they need 0.375 s. A busy
    # machine may wake a caller late (never early), so the bound that proves one shared budget
    # is on when each grant came at the earliest: the k-th no sooner than k intervals in.
    assert (n - 1) / rate - EPSILON <= elapsed < (n - 1) / rate + 1.0
    for k, stamp in enumerate(stamps):
        assert stamp - started >= k / rate - 0.01, f"call {k} came early"


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


async def test_redis_a_late_wake_up_in_one_process_moves_the_others_slots_too(
    redis_url, shared_key
):
    clock = VirtualTime()
    # Process a's first wake-up comes 100 ms late; b's are on time.
    first = RedisRateLimiter(
        redis_url, 50, key=shared_key, clock=clock, sleep=clock.process("a", stalls(0, 0.1))
    )
    second = RedisRateLimiter(redis_url, 50, key=shared_key, clock=clock, sleep=clock.process("b"))
    try:
        callers = [granted(first if i % 2 else second, clock) for i in range(12)]
        times = await clock.run(*callers)
    finally:
        await first.aclose()
        await second.aclose()
    assert len(set(times)) == len(times)
    assert min(gaps(times)) >= first.interval - first.late_tolerance - 1e-6


async def test_redis_sliding_window_holds_with_two_busy_processes(redis_url, shared_key):
    clock = VirtualTime()
    machines = {"a": BusyMachine(seed=3), "b": BusyMachine(seed=4)}
    limiters = [
        RedisRateLimiter(
            redis_url, 50, key=shared_key, clock=clock, sleep=clock.process(name, machine)
        )
        for name, machine in machines.items()
    ]
    workers, each = 16, 25  # like the sweep: a few dozen fetches in flight, one after another
    n = workers * each

    async def worker(limiter: RedisRateLimiter) -> list[float]:
        return [await granted(limiter, clock) for _ in range(each)]

    start = clock.now
    try:
        results = await clock.run(*(worker(limiters[i % 2]) for i in range(workers)))
        times = [t for result in results for t in result]
    finally:
        for limiter in limiters:
            await limiter.aclose()
    interval = limiters[0].interval
    assert sliding_window_refusals(times, 50) == 0
    assert min(gaps(times)) >= interval - limiters[0].late_tolerance - 1e-6
    end = max(times)
    stalled = sum(machine.stalled(end) for machine in machines.values())
    assert end - start <= (n - 1) * interval + stalled + 0.02


async def test_build_limiter_with_redis_url():
    limiter = build_limiter(5, redis_url="redis://127.0.0.1:6379/0", key="k")
    assert isinstance(limiter, LaneLimiter)
    assert isinstance(limiter.slots, RedisRateLimiter) and limiter.slots.key == "k"
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
            return [0, 0, 0]  # no wait, ticket 0, not deferred

        return script


async def test_redis_outage_and_recovery_are_logged_once_each(caplog):
    fake = FlakyRedis()
    clock = FakeClock()
    limiter = RedisRateLimiter(
        "redis://unused",
        10,
        client=fake,
        sleep=clock.sleep,
        clock=clock,
        monotonic=clock,
        probe_every=5,
    )
    with caplog.at_level(logging.INFO, logger="altegio.api"):
        await limiter.acquire()
        await limiter.acquire()  # paced by the local fallback meanwhile, Redis not asked
        fake.down = False
        await limiter.acquire()  # still not asked: the next probe is due 5 s after the failure
        assert fake.calls == 1 and limiter.degraded
        clock.now += 5
        await limiter.acquire()  # the probe
        await limiter.acquire()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    assert clock.sleeps == pytest.approx([limiter.interval] * 2, abs=0.01)
    assert fake.calls == 3 and not limiter.degraded
    await limiter.aclose()  # not ours to close: must not touch the fake
