"""SingleFlightCache: TTLs, negative caching, and one fetch for many concurrent callers."""

from __future__ import annotations

import asyncio

import pytest

from api.cache import SingleFlightCache
from api.errors import NotFound, Unavailable


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    def __init__(self, *results: object, delay: float = 0.0) -> None:
        self.results = list(results)
        self.calls = 0
        self.delay = delay

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(self.delay)
        result = self.results[min(self.calls, len(self.results)) - 1]
        if isinstance(result, BaseException):
            raise result
        return result


async def test_hit_until_ttl_then_refetch():
    timer = Timer()
    cache = SingleFlightCache(10, timer=timer)
    upstream = Upstream("a", "b")
    assert await cache.get("k", upstream) == "a"
    timer.now = 9.9
    assert await cache.get("k", upstream) == "a"
    timer.now = 10.1
    assert await cache.get("k", upstream) == "b"
    assert upstream.calls == 2


async def test_fifty_concurrent_identical_lookups_make_one_call():
    cache = SingleFlightCache(60)
    upstream = Upstream("v", delay=0.02)
    results = await asyncio.gather(*(cache.get("k", upstream) for _ in range(50)))
    assert results == ["v"] * 50
    assert upstream.calls == 1


async def test_different_keys_do_not_share():
    cache = SingleFlightCache(60)
    upstream = Upstream("v", delay=0.01)
    await asyncio.gather(cache.get("a", upstream), cache.get("b", upstream))
    assert upstream.calls == 2


async def test_errors_reach_every_waiter_and_are_not_cached():
    cache = SingleFlightCache(60, negative_ttl=30, negative=(NotFound,))
    upstream = Upstream(Unavailable("down"), "ok", delay=0.01)
    outcomes = await asyncio.gather(
        *(cache.get("k", upstream) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, Unavailable) for o in outcomes)
    assert upstream.calls == 1
    assert await cache.get("k", upstream) == "ok"
    assert upstream.calls == 2


async def test_not_found_is_remembered_for_the_negative_ttl():
    timer = Timer()
    cache = SingleFlightCache(60, negative_ttl=30, negative=(NotFound,), timer=timer)
    upstream = Upstream(NotFound("no such location", status=404), "found")
    for _ in range(3):
        with pytest.raises(NotFound) as caught:
            await cache.get("k", upstream)
        assert caught.value.message == "no such location" and caught.value.status == 404
    assert upstream.calls == 1
    timer.now = 30.1
    assert await cache.get("k", upstream) == "found"
    assert upstream.calls == 2


async def test_negative_hits_raise_fresh_copies():
    cache = SingleFlightCache(60, negative_ttl=30, negative=(NotFound,))
    upstream = Upstream(NotFound("gone", status=404))
    seen = []
    for _ in range(3):
        try:
            await cache.get("k", upstream)
        except NotFound as exc:
            seen.append(exc)
    assert len({id(e) for e in seen[1:]}) == 2


async def test_zero_ttls_disable_caching_but_still_coalesce():
    cache = SingleFlightCache(0, negative_ttl=0, negative=(NotFound,))
    upstream = Upstream("v", delay=0.01)
    await asyncio.gather(*(cache.get("k", upstream) for _ in range(10)))
    assert upstream.calls == 1
    await cache.get("k", upstream)
    assert upstream.calls == 2
    missing = Upstream(NotFound("x"))
    for _ in range(2):
        with pytest.raises(NotFound):
            await cache.get("m", missing)
    assert missing.calls == 2
    assert len(cache) == 0


async def test_one_cancelled_waiter_does_not_cancel_the_others():
    cache = SingleFlightCache(60)
    upstream = Upstream("v", delay=0.05)
    first = asyncio.create_task(cache.get("k", upstream))
    second = asyncio.create_task(cache.get("k", upstream))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == "v"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert upstream.calls == 1


async def test_fetch_outlives_all_waiters_and_fills_the_cache():
    cache = SingleFlightCache(60)
    upstream = Upstream("v", delay=0.02)
    waiter = asyncio.create_task(cache.get("k", upstream))
    await asyncio.sleep(0.005)
    waiter.cancel()
    await asyncio.sleep(0.04)
    assert await cache.get("k", upstream) == "v"
    assert upstream.calls == 1


async def test_invalidate_and_clear():
    cache = SingleFlightCache(60)
    upstream = Upstream("a", "b", "c")
    await cache.get("k", upstream)
    cache.invalidate("k")
    assert await cache.get("k", upstream) == "b"
    cache.clear()
    assert await cache.get("k", upstream) == "c"


async def test_maxsize_bounds_memory():
    cache = SingleFlightCache(60, maxsize=3)
    for i in range(10):
        await cache.get(i, Upstream(i))
    assert len(cache) == 3
