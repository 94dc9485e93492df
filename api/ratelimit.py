"""Client-side pacing so the bot never exceeds Altegio's per-IP request rate.

Both limiters use GCRA (the "generic cell rate algorithm", a token bucket expressed as one
timestamp): each caller reserves the next free slot at once and then sleeps until it, so waiters
are served in arrival order without a lock or polling. `burst` is how many requests may go out
back to back after a quiet spell; 1 spaces requests evenly, which keeps any one-second window at
or under `rate` whatever way the server counts (a token bucket with burst b lets through up to
b + rate requests in one second, which a sliding-window counter such as Altegio's answers with 429).

`headroom` stretches the spacing a little (5 % by default): requests leave evenly spaced but reach
the server with a few milliseconds of jitter, and an exactly-at-the-limit pace turns that jitter
into an occasional 429. `per_minute` adds Altegio's second limit (200 a minute, which is less than
5 a second sustained): the spacing is then the larger of the two.

`TokenBucket` paces one process. `RedisRateLimiter` keeps the slot timestamp in Redis and
reserves it with one Lua script, so every process on a host shares a single budget (Altegio
counts per client IP, not per process).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger("altegio.api")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


@runtime_checkable
class RateLimiter(Protocol):
    async def acquire(self) -> None:
        """Return when the caller may send one request."""
        ...


class NoLimit:
    """For tests and tools that must not be paced."""

    async def acquire(self) -> None:
        return None

    async def pause(self, seconds: float) -> None:
        return None


def spacing(rate: float, *, per_minute: float | None = None, headroom: float = 0.05) -> float:
    """Seconds between requests for a per-second and an optional per-minute limit."""
    if not rate > 0:
        raise ValueError("rate must be above 0")
    if per_minute is not None and not per_minute > 0:
        raise ValueError("per_minute must be above 0")
    if not 0 <= headroom < 1:
        raise ValueError("headroom must be from 0 to below 1")
    interval = max(1.0 / rate, 60.0 / per_minute if per_minute else 0.0)
    return interval * (1.0 + headroom)


class TokenBucket:
    """An in-process limiter: `rate` requests per second, `burst` back to back."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        per_minute: float | None = None,
        headroom: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not burst >= 1:
            raise ValueError("burst must be at least 1")
        self._interval = spacing(rate, per_minute=per_minute, headroom=headroom)
        self.rate = float(rate)
        self.per_minute = per_minute
        self.burst = float(burst)
        self._tolerance = (self.burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._tat = -math.inf  # theoretical arrival time of the next request

    def reserve(self) -> float:
        """Take the next slot and return how many seconds to wait for it."""
        now = self._clock()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        return max(0.0, tat - self._tolerance - now)

    @property
    def interval(self) -> float:
        return self._interval

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait <= 0:
            return
        reserved = self._tat
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            # Give the slot back if nobody queued behind it, so a cancelled caller costs nothing.
            if self._tat == reserved:
                self._tat -= self._interval
            raise

    async def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (Altegio said 429 with Retry-After: the limit is per
        IP, so the whole process should wait, not just the refused request)."""
        if seconds > 0:
            self._tat = max(self._tat, self._clock() + seconds + self._tolerance)


# KEYS[1]: the slot timestamp. ARGV: interval and tolerance (microseconds), pause (microseconds,
# 0 to reserve a slot). Redis's own clock is used, so processes need not agree on the time.
# Microseconds since the epoch fit a double exactly; '%.0f' keeps all digits when stored.
_GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local pause = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = 0
if pause > 0 then
  local held = now + pause + tolerance
  if held > tat then tat = held end
else
  wait = tat - tolerance - now
  if wait < 0 then wait = 0 end
  tat = tat + interval
end
local ttl = math.ceil((tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', ttl)
return wait
"""


class RedisRateLimiter:
    """A limiter shared by every process that uses the same Redis `key`.

    If Redis cannot be reached, the limiter falls back to an in-process `TokenBucket` at the same
    rate (logged once per outage) rather than stopping the bot: a few processes briefly pacing
    themselves separately is better than none of them answering.
    """

    def __init__(
        self,
        url: str,
        rate: float,
        *,
        key: str = "altegio:ratelimit",
        burst: float = 1.0,
        per_minute: float | None = None,
        headroom: float = 0.05,
        sleep: Sleep = asyncio.sleep,
        client: Any = None,
    ) -> None:
        if not burst >= 1:
            raise ValueError("burst must be at least 1")
        interval = spacing(rate, per_minute=per_minute, headroom=headroom)
        import redis.asyncio as redis  # only needed when processes share the limit

        self.rate = float(rate)
        self.per_minute = per_minute
        self.burst = float(burst)
        self.key = key
        self.interval = interval
        self._interval_us = round(interval * 1_000_000)
        self._tolerance_us = round((self.burst - 1.0) * interval * 1_000_000)
        self._sleep = sleep
        self._owns_client = client is None
        self._redis = client if client is not None else redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2
        )
        self._script = self._redis.register_script(_GCRA)
        self._fallback = TokenBucket(
            rate, burst=burst, per_minute=per_minute, headroom=headroom, sleep=sleep
        )
        self._degraded = False

    async def _call(self, pause_us: int) -> float | None:
        try:
            wait_us = await self._script(
                keys=[self.key], args=[self._interval_us, self._tolerance_us, pause_us]
            )
        except Exception as exc:  # any Redis failure: connection, timeout, script error
            if not self._degraded:
                self._degraded = True
                log.warning(
                    "redis rate limiter unavailable, pacing this process alone: %s",
                    type(exc).__name__,
                    extra={"limiter_key": self.key},
                )
            return None
        if self._degraded:
            self._degraded = False
            log.info("redis rate limiter reachable again", extra={"limiter_key": self.key})
        return int(wait_us) / 1_000_000

    async def acquire(self) -> None:
        wait = await self._call(0)
        if wait is None:
            await self._fallback.acquire()
        elif wait > 0:
            await self._sleep(wait)

    async def pause(self, seconds: float) -> None:
        if seconds > 0 and await self._call(max(1, round(seconds * 1_000_000))) is None:
            await self._fallback.pause(seconds)

    async def reset(self) -> None:
        """Forget the shared slot (tests and tools)."""
        await self._redis.delete(self.key)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def build_limiter(
    rate: float | None,
    *,
    redis_url: str | None = None,
    per_minute: float | None = None,
    burst: float = 1.0,
    headroom: float = 0.05,
    key: str = "altegio:ratelimit",
) -> RateLimiter:
    """The limiter the settings ask for: shared through Redis when a URL is given, else local;
    no limit when `rate` is None or 0."""
    if not rate:
        return NoLimit()
    options: dict[str, Any] = {"burst": burst, "per_minute": per_minute, "headroom": headroom}
    if redis_url:
        return RedisRateLimiter(redis_url, rate, key=key, **options)
    return TokenBucket(rate, **options)
