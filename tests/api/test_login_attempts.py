"""Each person's login attempts, counted across processes through Redis: two counters on one
Redis (two web workers) hold a person to one limit together, and a counter whose Redis is gone
counts in its own process, then uses Redis again once it is back."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from api import (
    AltegioClient,
    LoginAttempts,
    RedisLoginAttempts,
    TooManyAttempts,
    build_login_attempts,
    lane,
)
from tests.api.conftest import ok
from tests.faults.tcp_proxy import TcpProxy

ANN = ("T1", "ann")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def logins_key(redis_url: str) -> AsyncIterator[str]:
    import redis.asyncio as redis

    # Unique per test, so concurrent runs against one Redis do not count each other's tries.
    key = f"altegio-bot-test:logins:{uuid.uuid4().hex}"
    yield key
    client = redis.Redis.from_url(redis_url)
    async for name in client.scan_iter(f"{key}:*"):
        await client.delete(name)
    await client.aclose()


async def test_two_processes_hold_a_person_to_one_limit_together(redis_url, logins_key):
    first = RedisLoginAttempts(redis_url, 5, 300, key=logins_key)
    second = RedisLoginAttempts(redis_url, 5, 300, key=logins_key)
    try:
        for counter in (first, second, first, second, first):
            await counter.check(ANN)
        for counter in (first, second):
            with pytest.raises(TooManyAttempts) as refused:
                await counter.check(ANN)
            assert 1 <= refused.value.retry_after <= 300
        # Someone else, or the same user id in another workspace, is not held back.
        await second.check(("T1", "bob"))
        await first.check(("T2", "ann"))
        assert not first.degraded and not second.degraded
    finally:
        await first.aclose()
        await second.aclose()


async def test_attempts_leave_the_window(redis_url, logins_key):
    counter = RedisLoginAttempts(redis_url, 2, 0.3, key=logins_key)
    other = RedisLoginAttempts(redis_url, 2, 0.3, key=logins_key)
    try:
        await counter.check(ANN)
        await other.check(ANN)
        with pytest.raises(TooManyAttempts):
            await counter.check(ANN)
        # The refusal said when: once the window has passed, either process lets ann try again.
        for _ in range(100):
            try:
                await other.check(ANN)
                break
            except TooManyAttempts:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("ann was never let back in")
    finally:
        await counter.aclose()
        await other.aclose()


async def test_the_client_refuses_a_login_past_the_shared_limit_without_asking_altegio(
    redis_url, logins_key, make_client, script
):
    """Two bot processes' clients on one Redis: ann's sixth try, wherever it lands, is refused."""
    clients: list[AltegioClient] = [
        make_client(login_attempts=RedisLoginAttempts(redis_url, 5, 300, key=logins_key))
        for _ in range(2)
    ]
    for _ in range(5):
        script.queue(ok({"user_token": "t", "id": 1, "name": "Ann"}))
    with lane("login", ANN):
        for n in range(5):
            await clients[n % 2].authenticate("ann@example.com", "guess")
        for client in clients:
            with pytest.raises(TooManyAttempts):
                await client.authenticate("ann@example.com", "guess")
    assert len(script.requests) == 5
    for client in clients:
        await client.login_attempts.aclose()


async def test_redis_gone_counts_in_this_process_then_redis_again(redis_url, logins_key, caplog):
    url = urlsplit(redis_url)
    clock = Clock()
    with TcpProxy(url.hostname or "127.0.0.1", url.port or 6379) as proxy:
        proxied = f"redis://127.0.0.1:{proxy.port}{url.path or '/0'}"
        counter = RedisLoginAttempts(
            proxied, 3, 300, key=logins_key, probe_every=5, monotonic=clock
        )
        with caplog.at_level(logging.INFO, logger="altegio.api"):
            await counter.check(ANN)  # counted in Redis
            proxy.cut()
            await counter.check(ANN)  # Redis gone: counted here, alone
            assert counter.degraded
            await counter.check(ANN)
            await counter.check(ANN)
            with pytest.raises(TooManyAttempts):  # this process's own count still holds
                await counter.check(ANN)
            proxy.restore()
            clock.now += 5  # the next probe is due
            await counter.check(ANN)  # Redis again: it has one attempt, now two
            assert not counter.degraded
            await counter.check(ANN)
            with pytest.raises(TooManyAttempts):
                await counter.check(ANN)
        await counter.aclose()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("login counter unavailable" in m for m in messages) == 1
    assert sum("login counter reachable again" in m for m in messages) == 1


async def test_build_login_attempts_uses_redis_only_when_given_a_url(redis_url):
    shared = build_login_attempts(5, 300, redis_url=redis_url)
    assert isinstance(shared, RedisLoginAttempts)
    await shared.aclose()
    local = build_login_attempts(5, 300)
    assert type(local) is LoginAttempts
    assert type(build_login_attempts(0, 300, redis_url=redis_url)) is LoginAttempts  # no limit
