"""Priority lanes, fair turns, bounded waits and the login throttle, locally and through Redis."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Hashable

import pytest

from api import Busy, TooManyAttempts
from api.lanes import LaneLimiter, LaneWaits, LoginAttempts, current, lane, set_lane
from api.ratelimit import RedisRateLimiter, TokenBucket
from tests.api.conftest import ok


class SteppingClock:
    """Fake time that moves only when the limiter sleeps; each sleep lets other tasks run."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def local(rate: float = 5.0, **options) -> tuple[LaneLimiter, SteppingClock]:
    clock = SteppingClock()
    bucket = TokenBucket(rate, headroom=0, clock=clock, sleep=clock.sleep)
    options.setdefault("waits", LaneWaits(None, None, None, None))
    return LaneLimiter(bucket, clock=clock, **options), clock


async def call(limiter: LaneLimiter, name: str, key: tuple[Hashable, ...] | None, log: list):
    with lane(name, key):
        await limiter.acquire()
    log.append((name, key))


async def queued(limiter: LaneLimiter, *calls: tuple[str, tuple | None], log: list) -> None:
    """Queue every call before the first slot is handed out, then wait for them all."""
    tasks = [asyncio.ensure_future(call(limiter, name, key, log)) for name, key in calls]
    await asyncio.gather(*tasks)


def test_the_lane_is_set_for_a_block_or_for_the_rest_of_a_task():
    assert current() == ("interactive", None)
    with lane("login", ("T1", "U1")):
        assert current() == ("login", ("T1", "U1"))
    assert current() == ("interactive", None)
    with pytest.raises(ValueError, match="unknown lane"):
        set_lane("urgent")


async def test_lanes_are_served_best_first():
    limiter, _ = local(min_share=100)
    log: list = []
    calls = [("sweep", None)] * 3 + [("upload", None)] * 3 + [("interactive", None)] * 2
    await queued(limiter, *calls, ("login", None), log=log)
    assert [name for name, _ in log] == [
        "login", "interactive", "interactive", "upload", "upload", "upload",
        "sweep", "sweep", "sweep",
    ]  # fmt: skip


async def test_a_login_does_not_wait_behind_forty_photos():
    limiter, clock = local(rate=5)
    log: list = []
    uploads = asyncio.ensure_future(queued(limiter, *[("upload", None)] * 40, log=log))
    while clock.now < 1002.0:  # noqa: ASYNC110 - fake time: two seconds into the backlog
        await asyncio.sleep(0)
    asked = clock.now
    await call(limiter, "login", None, log)
    # The next slot (0.2 s apart) was the login's, not the 30 photos' still queued.
    assert clock.now - asked <= 0.2 + 1e-9
    assert sum(1 for name, _ in log if name == "upload") <= 11
    await uploads
    assert len(log) == 41


async def test_a_waiting_lane_gets_at_least_one_slot_in_ten():
    limiter, _ = local()
    log: list = []
    await queued(limiter, *[("interactive", None)] * 30, *[("sweep", None)] * 5, log=log)
    names = [name for name, _ in log]
    assert names[:9] == ["interactive"] * 9
    for start in range(0, 30, 10):
        assert "sweep" in names[start : start + 10]


async def test_people_and_workspaces_take_turns_within_a_lane():
    limiter, _ = local()
    log: list = []
    burst = [("interactive", ("T1", "ann"))] * 10
    others = [("interactive", ("T1", "bob"))] * 2 + [("interactive", ("T2", "cat"))] * 2
    await queued(limiter, *burst, *others, log=log)
    first_six = [key for _, key in log[:6]]
    # Ann's ten ids went first in the queue, but Bob and Cat were done within six slots.
    assert first_six.count(("T1", "bob")) == 2 and first_six.count(("T2", "cat")) == 2
    assert [key for _, key in log[6:]] == [("T1", "ann")] * 8


async def test_a_workspace_with_a_hundred_photos_takes_turns_with_another():
    limiter, _ = local()
    log: list = []
    big = [("upload", ("T1", f"u{i % 5}")) for i in range(100)]
    await queued(limiter, *big, ("upload", ("T2", "dan")), log=log)
    assert [key for _, key in log].index(("T2", "dan")) <= 1


async def test_past_its_longest_wait_a_call_gets_busy_with_a_retry_hint():
    # Real time: 2 a second, at most 0.3 s to wait, so of six callers only the first goes.
    bucket = TokenBucket(2)
    limiter = LaneLimiter(bucket, waits=LaneWaits(interactive=0.3))
    results = await asyncio.gather(*(limiter.acquire() for _ in range(6)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Busy)]
    assert results[0] is None and len(refused) >= 4
    assert all(r.retry_after >= 1 for r in refused)
    assert limiter.waiting() == {"login": 0, "interactive": 0, "upload": 0, "sweep": 0}


async def test_the_sweep_lane_waits_as_long_as_it_takes():
    limiter, _ = local(rate=50, waits=LaneWaits())  # the defaults: sweep unbounded
    log: list = []
    await queued(limiter, *[("sweep", None)] * 30, log=log)
    assert len(log) == 30


async def test_each_granted_wait_is_reported_per_lane_for_benches():
    seen: list[tuple[str, float]] = []
    limiter, _ = local(observe=lambda name, waited: seen.append((name, waited)))
    await queued(limiter, ("sweep", None), ("login", None), log=[])
    assert [name for name, _ in seen] == ["login", "sweep"]
    assert seen[0][1] == 0 and seen[1][1] == pytest.approx(0.2)


class SlowToIdle:
    """A slot source that hands out slots at once and takes its time to go idle (Redis does a
    round trip there)."""

    interval = 0.0

    def __init__(self) -> None:
        self.idling = asyncio.Event()
        self.release = asyncio.Event()

    async def acquire(self) -> None:
        return None

    async def idle(self) -> None:
        self.idling.set()
        await self.release.wait()


async def test_a_caller_arriving_while_the_queue_goes_idle_is_still_served():
    slots = SlowToIdle()
    limiter = LaneLimiter(slots, waits=LaneWaits(None, None, None, None))
    await limiter.acquire()
    await slots.idling.wait()
    late = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    slots.release.set()
    await asyncio.wait_for(late, timeout=5)


async def test_login_attempts_are_throttled_per_person_then_allowed_again():
    clock = SteppingClock()
    attempts = LoginAttempts(5, 300, clock=clock)
    for _ in range(5):
        await attempts.check(("T1", "ann"))
        clock.now += 10
    with pytest.raises(TooManyAttempts) as refused:
        await attempts.check(("T1", "ann"))
    assert refused.value.retry_after == 250
    await attempts.check(("T1", "bob"))  # someone else is not held back
    clock.now += 250
    await attempts.check(("T1", "ann"))


async def test_the_client_refuses_a_sixth_login_without_asking_altegio(make_client, script):
    client = make_client()
    script.queue(ok({"user_token": "t", "id": 1, "name": "Ann"}))
    with lane("login", ("T1", "ann")):
        for _ in range(5):
            await client.authenticate("ann@example.com", "guess")
        with pytest.raises(TooManyAttempts):
            await client.authenticate("ann@example.com", "guess")
    assert len(script.requests) == 5


async def test_a_busy_lane_reaches_the_caller_of_the_client(make_client, script):
    limiter = LaneLimiter(TokenBucket(2), waits=LaneWaits(interactive=0.2))
    client = make_client(limiter=limiter)
    script.queue(ok({"salon_id": 1, "active": True, "due_date": "2030-01-01"}))
    results = await asyncio.gather(
        client.get_license(1), client.get_license(2), return_exceptions=True
    )
    assert sum(isinstance(r, Busy) for r in results) == 1
    assert len(script.requests) == 1


# --------------------------------------------------------------------------- Redis


@pytest.fixture
def shared_key() -> str:
    return f"altegio-bot-test:{uuid.uuid4().hex}"


async def test_a_burst_in_one_process_goes_before_sweeps_in_two_others(redis_url, shared_key):
    rate = 20.0
    processes = [
        LaneLimiter(RedisRateLimiter(redis_url, rate, key=shared_key), waits=LaneWaits())
        for _ in range(3)
    ]
    people, first_sweep, second_sweep = processes
    log: list = []
    try:
        sweeps = [
            asyncio.ensure_future(queued(p, *[("sweep", None)] * 40, log=log))
            for p in (first_sweep, second_sweep)
        ]
        await asyncio.sleep(0.3)
        began = time.monotonic()
        await queued(people, *[("interactive", ("T1", "ann"))] * 10, log=log)
        took = time.monotonic() - began
        interval = people.slots.interval
        # First come, first served, the ten would get one slot in three: 30 intervals.
        assert took < 18 * interval, took / interval
        for task in sweeps:
            task.cancel()
    finally:
        for p in processes:
            await p.aclose()
        await processes[0].slots.reset()


async def test_an_idle_process_stops_holding_the_others_back(redis_url, shared_key):
    people = LaneLimiter(RedisRateLimiter(redis_url, 20, key=shared_key, mark_ttl=30))
    sweeper = LaneLimiter(RedisRateLimiter(redis_url, 20, key=shared_key, mark_ttl=30))
    try:
        await queued(people, ("login", ("T1", "ann")), log=[])
        await asyncio.sleep(0.05)  # its marks are withdrawn as its queue empties
        began = time.monotonic()
        await queued(sweeper, *[("sweep", None)] * 5, log=[])
        # Not deferred for the marks' 30 s lifetime: about five intervals.
        assert time.monotonic() - began < 1.5
    finally:
        await people.aclose()
        await sweeper.aclose()


async def test_a_hung_redis_costs_one_short_timeout_then_the_process_paces_itself(caplog):
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # keep the connection open, say nothing

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = LaneLimiter(
        RedisRateLimiter(f"redis://127.0.0.1:{port}/0", 50, timeout=0.25, probe_every=60)
    )
    try:
        with caplog.at_level(logging.WARNING, logger="altegio.api"):
            began = time.monotonic()
            await limiter.acquire()
            first = time.monotonic() - began
            began = time.monotonic()
            for _ in range(10):
                await limiter.acquire()
            rest = time.monotonic() - began
    finally:
        await limiter.aclose()
        server.close()
        for writer in accepted:
            writer.close()
    assert 0.2 <= first < 1.0
    # Ten more paced locally (about 0.2 s at 50 a second), Redis not asked again.
    assert rest < 0.8 and len(accepted) == 1
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1
