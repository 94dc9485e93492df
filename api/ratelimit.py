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

Late wake-ups do not bunch requests. A process left waiting for a CPU wakes its sleepers late and
together: sent in their stale slots, the requests due during a ~100 ms stall would leave at once,
and a sliding one-second window at the server could count more than the limit. So a waiter checks
its slot again when it wakes. More than `late_tolerance` (half an interval, less when the headroom
is small) past it, the waiter moves the whole schedule later by the excess, every queued slot with
it and in order, so it goes alone and those behind it keep their spacing; and no slot is used less
than one interval after the last one used (say, by a caller who found a free slot during the
stall). Requests therefore *leave*, not only get scheduled, in slots at least an interval apart
and at most `late_tolerance` after them, which bounds what any window counts. A stall costs about
the time it lasted; nothing is caught up afterwards by sending faster. A caller who finds a free
slot still goes at once, without sleeping.

`TokenBucket` paces one process. `RedisRateLimiter` keeps the schedule in Redis and reserves and
checks slots with one Lua script, so every process on a host shares a single budget (Altegio
counts per client IP, not per process). A sleeper there checks its slot again with Redis when it
wakes (one more round trip); one process's stall moves the schedule of them all.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from api.errors import TooManyAttempts
from api.lanes import Key, LaneLimiter, LaneWaits, LoginAttempts

log = logging.getLogger("altegio.api")

# A wake-up this close before its slot counts as on time (timers may fire a hair early).
_EARLY = 1e-6

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


def late_tolerance(interval: float, rate: float, per_minute: float | None = None) -> float:
    """How long after its slot a waiter may still go in it.

    Requests leaving up to `t` after slots one `interval` apart put at most (1 + t) / interval + 1
    of them in any second, so `t` must stay below the slack the spacing leaves in the window
    (rate * interval - 1 s, e.g. 50 ms at 5 % headroom): half of it, leaving the other half to
    network jitter, and never more than half an interval.
    """
    slack = rate * interval - 1.0
    if per_minute:
        slack = min(slack, per_minute * interval - 60.0)
    return max(0.0, min(interval / 2, slack / 2))


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
        self.late_tolerance = late_tolerance(self._interval, self.rate, per_minute)
        self._tolerance = (self.burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._tat = -math.inf  # theoretical arrival time of the next request
        # How far late wake-ups have moved the queued slots later: a waiter keeps its slot as a
        # ticket (the slot less the shift when it was taken), so moving them all is one addition.
        self._shift = 0.0
        self._last = -math.inf  # the slot of the latest request let through

    def _take(self) -> tuple[float, float]:
        now = self._clock()
        slot = max(self._tat, now)
        self._tat = slot + self._interval
        return slot, slot - self._tolerance - now

    def reserve(self) -> float:
        """Take the next slot and return how many seconds to wait for it."""
        return max(0.0, self._take()[1])

    @property
    def interval(self) -> float:
        return self._interval

    async def acquire(self) -> None:
        slot, wait = self._take()
        if wait <= 0:
            self._last = slot
            return
        ticket = slot - self._shift
        try:
            while wait > 0:
                await self._sleep(wait)
                wait = self._settle(ticket)
        except asyncio.CancelledError:
            # Give the slot back if nobody queued behind it, so a cancelled caller costs nothing.
            if self._tat - self._shift == ticket + self._interval:
                self._tat -= self._interval
            raise

    def _settle(self, ticket: float) -> float:
        """A waiter woke up: 0 if it may go now, else how much longer to sleep."""
        now = self._clock()
        slot = ticket + self._shift
        wait = slot - self._tolerance - now
        if wait > _EARLY:  # woken early, or the schedule moved later while it slept
            return wait
        # Late past the tolerance: its slot has passed; the one it goes in is as late as the
        # tolerance allows. And never sooner than one interval after the last one out.
        target = max(slot + max(0.0, -wait - self.late_tolerance), self._last + self._interval)
        if target > slot:
            self._shift += target - slot
            self._tat += target - slot
            wait = target - self._tolerance - now
            if wait > _EARLY:
                return wait
        self._last = target
        return 0.0

    async def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (Altegio said 429 with Retry-After: the limit is per
        IP, so the whole process should wait, not just the refused request)."""
        if seconds > 0:
            self._tat = max(self._tat, self._clock() + seconds + self._tolerance)


# KEYS: the next free slot, the shift (see TokenBucket) and the slot of the latest request let
# through, all in microseconds; then, for the lanes (see lanes.py), one sorted set per lane of the
# processes with waiters in it (scored by when that mark expires) and a hash of how many times in
# a row each lane deferred. ARGV: mode (RESERVE, PAUSE, SETTLE or IDLE), interval, burst
# tolerance, late tolerance, then the pause or the ticket to settle, the time (-1: Redis's own
# clock, so processes need not agree on the time), the lane reserved for, this process's waiting
# lanes ("0110": a digit per lane), its id, how long its marks live, and the minimum share.
# Returns {wait, ticket, deferred}. The slot steps are those of TokenBucket.
# Microseconds since the epoch fit a double exactly; '%.0f' keeps all digits when stored.
RESERVE, PAUSE, SETTLE, IDLE = 0, 1, 2, 3
_GCRA = """
local mode = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local late = tonumber(ARGV[4])
local value = tonumber(ARGV[5])
local now = tonumber(ARGV[6])
local lane = tonumber(ARGV[7])
local mask = ARGV[8]
local me = ARGV[9]
local mark_ttl = tonumber(ARGV[10])
local min_share = tonumber(ARGV[11])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local lanes = string.len(mask)
if mode == 3 then
  for i = 1, lanes do redis.call('ZREM', KEYS[3 + i], me) end
  return {0, 0, 0}
end
if mode == 0 then
  for i = 1, lanes do
    local k = KEYS[3 + i]
    if string.sub(mask, i, i) == '1' then
      redis.call('ZADD', k, now + mark_ttl, me)
    else
      redis.call('ZREM', k, me)
    end
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
    redis.call('PEXPIRE', k, math.ceil(mark_ttl / 1000) + 1000)
  end
  local ahead = 0
  for i = 1, lane do
    ahead = ahead + redis.call('ZCARD', KEYS[3 + i])
    if string.sub(mask, i, i) == '1' then ahead = ahead - 1 end
  end
  local skips = KEYS[4 + lanes]
  if ahead > 0 then
    local n = redis.call('HINCRBY', skips, lane, 1)
    redis.call('PEXPIRE', skips, math.ceil(mark_ttl / 1000) + 1000)
    if n < min_share then return {0, 0, 1} end
  end
  redis.call('HSET', skips, lane, 0)
  redis.call('PEXPIRE', skips, math.ceil(mark_ttl / 1000) + 1000)
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local shift = tonumber(redis.call('GET', KEYS[2]) or '0')
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local wait = 0
local ticket = 0
if mode == 0 then
  if tat < now then tat = now end
  ticket = tat - shift
  wait = tat - tolerance - now
  if wait <= 0 then
    wait = 0
    last = tat
  end
  tat = tat + interval
elseif mode == 1 then
  local held = now + value + tolerance
  if held > tat then tat = held end
else
  local slot = value + shift
  wait = slot - tolerance - now
  if wait <= 0 then
    local target = slot
    if -wait > late then target = slot - wait - late end
    if target < last + interval then target = last + interval end
    if target > slot then
      shift = shift + target - slot
      tat = tat + target - slot
    end
    wait = target - tolerance - now
    if wait <= 0 then
      wait = 0
      last = target
    end
  end
end
local ttl = math.ceil(math.max(tat - now, 0) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', ttl)
redis.call('SET', KEYS[2], string.format('%.0f', shift), 'PX', ttl)
redis.call('SET', KEYS[3], string.format('%.0f', last), 'PX', ttl)
return {wait, ticket, 0}
"""

# The lanes, as lanes.py names them; only their number and order matter here.
_LANES = 4
_NO_LANES = "0" * _LANES


class RedisRateLimiter:
    """A limiter shared by every process that uses the same Redis `key`.

    Shared lanes: each `take` publishes which lanes have waiters in this process (marks that
    expire after `mark_ttl` unless renewed, and are removed when the process's queue empties). A
    process reserving for a lane while another process has waiters in a better lane defers: it
    sleeps one interval and asks again, so a login waiting in one process gets the slots a sweep
    in another would have taken. The approximations: a process already holding a reservation
    keeps it (at most one per process, so a login waits at most about one interval per process);
    and the minimum share counts deferrals, one an interval per deferring process, rather than
    slots given away, so with several processes deferring in one lane it gets its turn sooner.

    A breaker guards against Redis vanishing or hanging: Redis is asked with short timeouts
    (`timeout`), and after a failure the process paces itself with an in-process `TokenBucket` at
    `fallback_share` of the rate (its share of the budget, e.g. 1/2 with two workers) without
    asking Redis again until `probe_every` seconds have passed; then one call probes it. A hung
    Redis costs one timeout per probe, not one per request. Logged once each way.
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
        clock: Clock | None = None,
        client: Any = None,
        timeout: float = 0.25,
        probe_every: float = 5.0,
        fallback_share: float = 1.0,
        mark_ttl: float = 2.0,
        min_share: int = 10,
        monotonic: Clock = time.monotonic,
    ) -> None:
        """`clock` (tests only) stands in for Redis's clock; `client` is a Redis client to use
        instead of one of its own (not closed by `aclose`)."""
        if not burst >= 1:
            raise ValueError("burst must be at least 1")
        if not 0 < fallback_share <= 1:
            raise ValueError("fallback_share must be above 0 and at most 1")
        interval = spacing(rate, per_minute=per_minute, headroom=headroom)
        import redis.asyncio as redis  # only needed when processes share the limit
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.rate = float(rate)
        self.per_minute = per_minute
        self.burst = float(burst)
        self.key = key
        self.interval = interval
        self.late_tolerance = late_tolerance(interval, self.rate, per_minute)
        self._keys = [
            key,
            f"{key}:shift",
            f"{key}:last",
            *(f"{key}:lane{i}" for i in range(_LANES)),
            f"{key}:skips",
        ]
        self._interval_us = round(interval * 1_000_000)
        self._tolerance_us = round((self.burst - 1.0) * interval * 1_000_000)
        self._late_us = round(self.late_tolerance * 1_000_000)
        self._mark_us = round(mark_ttl * 1_000_000)
        self._min_share = int(min_share)
        self._id = uuid.uuid4().hex
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        self.probe_every = float(probe_every)
        self._owns_client = client is None
        self._redis = (
            client
            if client is not None
            else redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),  # one short try: the breaker decides what next
                retry_on_timeout=False,
            )
        )
        self._script = self._redis.register_script(_GCRA)
        self._fallback = TokenBucket(
            rate * fallback_share,
            burst=burst,
            per_minute=per_minute * fallback_share if per_minute else None,
            headroom=headroom,
            sleep=sleep,
            **({"clock": clock} if clock is not None else {}),
        )
        self._degraded = False
        self._retry_at = -math.inf  # while degraded: when to probe Redis again

    async def _call(
        self, mode: int, value: int = 0, lane: int = _LANES - 1, mask: str = _NO_LANES
    ) -> tuple[float, int, bool] | None:
        """(seconds to wait, ticket, deferred), or None if Redis is not to be asked now."""
        if self._degraded and self._monotonic() < self._retry_at:
            return None
        now = -1 if self._clock is None else round(self._clock() * 1_000_000)
        try:
            wait_us, ticket, deferred = await self._script(
                keys=self._keys,
                args=[
                    mode,
                    self._interval_us,
                    self._tolerance_us,
                    self._late_us,
                    value,
                    now,
                    lane,
                    mask,
                    self._id,
                    self._mark_us,
                    self._min_share,
                ],
            )
        except Exception as exc:  # any Redis failure: connection, timeout, script error
            self._retry_at = self._monotonic() + self.probe_every
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
        return int(wait_us) / 1_000_000, int(ticket), bool(deferred)

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def acquire(self) -> None:
        await self.take(lambda: (1, _NO_LANES))

    async def take(self, demand: Callable[[], tuple[int, str]]) -> None:
        """Wait for a slot for the lane `demand()` names; it also says which lanes have waiters
        here (asked again after each deferral, as waiters come and go)."""
        while True:
            lane, mask = demand()
            answer = await self._call(RESERVE, 0, lane, mask)
            if answer is None:
                await self._fallback.acquire()
                return
            wait, ticket, deferred = answer
            if not deferred:
                break
            await self._sleep(self.interval)
            if demand()[1] == _NO_LANES:  # its waiters gave up meanwhile: nothing to reserve
                return
        while wait > 0:
            await self._sleep(wait)
            answer = await self._call(SETTLE, ticket)
            if answer is None:  # Redis went away meanwhile: the slot waited for is ours
                return
            wait = answer[0]

    async def idle(self) -> None:
        """This process has no waiters left: withdraw its marks so others stop deferring."""
        await self._call(IDLE, 0, 0, _NO_LANES)

    async def pause(self, seconds: float) -> None:
        if seconds > 0 and await self._call(PAUSE, max(1, round(seconds * 1_000_000))) is None:
            await self._fallback.pause(seconds)

    async def reset(self) -> None:
        """Forget the shared schedule (tests and tools)."""
        await self._redis.delete(*self._keys)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


# KEYS: one person's login attempts (a sorted set of attempt ids scored by time, microseconds).
# ARGV: the limit, the window in microseconds, a new attempt's id. Times are Redis's own, so
# processes need not agree on the time. Returns {allowed (1/0), microseconds until the oldest
# attempt leaves the window}.
_LOGINS = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return {1, 0}
"""


class RedisLoginAttempts(LoginAttempts):
    """`LoginAttempts` counted in Redis, so a person's attempts add up across every process
    sharing it (web workers behind one address: a person who guesses in one and then another is
    held back by the sum, as Altegio would count them).

    The same breaker as `RedisRateLimiter`: Redis is asked with short timeouts (`timeout`); after
    a failure this process counts alone (the in-process `LoginAttempts` it inherits) without
    asking Redis again until `probe_every` seconds have passed. Logged once each way. Attempts
    counted locally meanwhile are not carried over to Redis.
    """

    def __init__(
        self,
        url: str,
        limit: int = 5,
        window: float = 300.0,
        *,
        key: str = "altegio:logins",
        client: Any = None,
        timeout: float = 0.25,
        probe_every: float = 5.0,
        monotonic: Clock = time.monotonic,
    ) -> None:
        """`client`: a Redis client to use instead of one of its own (not closed by `aclose`)."""
        super().__init__(limit, window, clock=monotonic)
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.key = key
        self.probe_every = float(probe_every)
        self._monotonic = monotonic
        self._owns_client = client is None
        self._redis = (
            client
            if client is not None
            else redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
            )
        )
        self._script = self._redis.register_script(_LOGINS)
        self._degraded = False
        self._retry_at = -math.inf

    @property
    def degraded(self) -> bool:
        return self._degraded

    def _person(self, key: Key) -> str:
        # Hashed: the key holds workspace and user ids, which need not appear in Redis's keys.
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return f"{self.key}:{digest}"

    async def check(self, key: Key) -> None:
        if key is None or self.limit <= 0:
            return
        if self._degraded and self._monotonic() < self._retry_at:
            self.count(key)
            return
        try:
            allowed, wait_us = await self._script(
                keys=[self._person(key)],
                args=[self.limit, round(self.window * 1_000_000), uuid.uuid4().hex],
            )
        except Exception as exc:  # any Redis failure: connection, timeout, script error
            self._retry_at = self._monotonic() + self.probe_every
            if not self._degraded:
                self._degraded = True
                log.warning(
                    "redis login counter unavailable, counting logins in this process alone: %s",
                    type(exc).__name__,
                    extra={"limiter_key": self.key},
                )
            self.count(key)
            return
        if self._degraded:
            self._degraded = False
            log.info("redis login counter reachable again", extra={"limiter_key": self.key})
        if not int(allowed):
            raise TooManyAttempts(
                "too many login attempts", retry_after=max(1, math.ceil(int(wait_us) / 1_000_000))
            )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def build_login_attempts(
    limit: int, window: float, *, redis_url: str | None = None, key: str = "altegio:logins"
) -> LoginAttempts:
    """Each person's login attempts, counted across processes through Redis when a URL is given
    (the same REDIS_URL as the shared rate limit), else in this process."""
    if redis_url and limit > 0:
        return RedisLoginAttempts(redis_url, limit, window, key=key)
    return LoginAttempts(limit, window)


def build_limiter(
    rate: float | None,
    *,
    redis_url: str | None = None,
    per_minute: float | None = None,
    burst: float = 1.0,
    headroom: float = 0.05,
    key: str = "altegio:ratelimit",
    share: float = 1.0,
    waits: LaneWaits | None = None,
) -> RateLimiter:
    """The limiter the settings ask for, with priority lanes (see lanes.py): shared through
    Redis when a URL is given, else local at `share` of the rate (this process's part of the
    budget when several run without Redis); no limit when `rate` is None or 0."""
    if not rate:
        return NoLimit()
    options: dict[str, Any] = {"burst": burst, "headroom": headroom}
    if redis_url:
        slots: Any = RedisRateLimiter(
            redis_url, rate, key=key, per_minute=per_minute, fallback_share=share, **options
        )
    else:
        slots = TokenBucket(
            rate * share, per_minute=per_minute * share if per_minute else None, **options
        )
    return LaneLimiter(slots, waits=waits)
