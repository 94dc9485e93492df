"""Who gets Altegio's next request slot: priority lanes, fairness within a lane, bounded waits.

Altegio's budget (5 a second, 200 a minute per client address) is shared by everyone, so the
order in which waiting calls get a slot matters more than how fast any one of them runs:

- **Lanes**, best first: `login`, `interactive` (commands, buttons, forms), `upload` (photos),
  `sweep`. The next free slot goes to the best lane with a waiter, so a login never queues
  behind forty photos. A lane that has waiters is never starved: once it has been passed over
  `min_share - 1` times in a row it gets the next slot, a minimum share of one slot in
  `min_share` (ten by default) while it waits.
- **Fairness within a lane**: waiters are served round-robin by workspace, then by person within
  the workspace (the `key` a caller gives, e.g. (team, user)), so one person's ten ids or one
  workspace's hundred photos take turns with everyone else instead of going first.
- **Bounded waits**: each lane has a maximum wait; a call not granted a slot by then raises
  `Busy(retry_after=...)` instead of waiting on. The upload lane's is long, the sweep's unbounded:
  a photo the bot accepted is still uploaded, the sweep still finishes.

A call's lane and key come from a context variable (`lane(...)`), set once per Slack request by the
bot (or per sweep), so nothing has to be passed through every handler. A call made outside any
lane counts as `interactive` with no key.

`LaneLimiter` wraps a slot source (`TokenBucket`, or `RedisRateLimiter` to share both the budget
and the lanes between processes; see ratelimit.py) and hands its slots out one at a time from a
single pump task. `observe(lane, seconds)` is called with each granted wait, for benches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from api.errors import Busy, TooManyAttempts

log = logging.getLogger("altegio.api")

LANES = ("login", "interactive", "upload", "sweep")
DEFAULT_LANE = "interactive"

Key = tuple[Hashable, ...] | None
_current: ContextVar[tuple[str, Key]] = ContextVar("altegio_lane", default=(DEFAULT_LANE, None))


def _check(name: str) -> str:
    if name not in LANES:
        raise ValueError(f"unknown lane {name!r}; one of {', '.join(LANES)}")
    return name


@contextlib.contextmanager
def lane(name: str, key: Key = None) -> Iterator[None]:
    """Altegio calls made inside go in lane `name`, taking turns by `key` (workspace, person)."""
    token = _current.set((_check(name), key))
    try:
        yield
    finally:
        _current.reset(token)


def set_lane(name: str, key: Key = None) -> None:
    """Like `lane`, for the rest of the current task (a request's middleware sets it once)."""
    _current.set((_check(name), key))


def current() -> tuple[str, Key]:
    return _current.get()


@dataclass(frozen=True)
class LaneWaits:
    """The longest each lane waits for a slot before `Busy` (None: as long as it takes)."""

    login: float | None = 5.0
    interactive: float | None = 10.0
    upload: float | None = 240.0  # under the 300 s claim a photo upload holds
    sweep: float | None = None

    def of(self, name: str) -> float | None:
        return getattr(self, name)


class _Waiter:
    __slots__ = ("future", "key", "lane", "since")

    def __init__(self, lane: int, key: Key, future: asyncio.Future[None], since: float) -> None:
        self.lane = lane
        self.key = key
        self.future = future
        self.since = since


class _Lane:
    """Waiters of one lane: round-robin by workspace (key[0]), then by whole key."""

    def __init__(self) -> None:
        self.groups: dict[Hashable, dict[Key, deque[_Waiter]]] = {}
        self.size = 0

    def push(self, waiter: _Waiter) -> None:
        key = waiter.key
        group = key[0] if key else None
        self.groups.setdefault(group, {}).setdefault(key, deque()).append(waiter)
        self.size += 1

    def pop(self) -> _Waiter:
        group_id, group = next(iter(self.groups.items()))
        key, queue = next(iter(group.items()))
        waiter = queue.popleft()
        # Re-inserting moves this person, then this workspace, behind the others.
        del group[key]
        if queue:
            group[key] = queue
        del self.groups[group_id]
        if group:
            self.groups[group_id] = group
        self.size -= 1
        return waiter

    def remove(self, waiter: _Waiter) -> None:
        group_id = waiter.key[0] if waiter.key else None
        group = self.groups.get(group_id, {})
        queue = group.get(waiter.key)
        if queue is None or waiter not in queue:
            return
        queue.remove(waiter)
        self.size -= 1
        if not queue:
            del group[waiter.key]
        if not group:
            del self.groups[group_id]


class LaneLimiter:
    """A rate limiter with priority lanes, fair turns and bounded waits over a slot source."""

    def __init__(
        self,
        slots: Any,
        *,
        waits: LaneWaits | None = None,
        min_share: int = 10,
        observe: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_share < 2:
            raise ValueError("min_share must be at least 2")
        self.slots = slots
        self.waits = waits or LaneWaits()
        self.min_share = min_share
        self._observe = observe
        self._clock = clock
        self._lanes = [_Lane() for _ in LANES]
        self._passed = [0] * len(LANES)
        self._pump: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        return float(getattr(self.slots, "interval", 0.0))

    def waiting(self) -> dict[str, int]:
        return {name: q.size for name, q in zip(LANES, self._lanes, strict=True)}

    async def acquire(self) -> None:
        name, key = current()
        index = LANES.index(name)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(index, key, future, self._clock())
        self._lanes[index].push(waiter)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._run())
        limit = self.waits.of(name)
        try:
            if limit is None:
                await future
            else:
                await asyncio.wait({future}, timeout=max(0.0, limit))
        except BaseException:
            self._lanes[index].remove(waiter)
            raise
        if not future.done():
            self._lanes[index].remove(waiter)
            future.cancel()
            raise Busy(
                "Altegio's request budget is taken; try again shortly",
                retry_after=self._estimate(index),
            )
        future.result()  # a failure of the slot source reaches the caller

    def _estimate(self, index: int) -> int:
        """Seconds until this lane's queue would have drained, as a hint for a retry."""
        ahead = sum(q.size for q in self._lanes[: index + 1]) + 1
        return max(1, math.ceil(ahead * max(self.interval, 0.2)))

    def _choose(self) -> int | None:
        """The lane the next slot goes to: the best with waiters, unless one is starving."""
        busy = [i for i, q in enumerate(self._lanes) if q.size]
        if not busy:
            return None
        starving = [i for i in busy if self._passed[i] >= self.min_share - 1]
        chosen = max(starving, key=lambda i: (self._passed[i], -i)) if starving else busy[0]
        for i in busy:
            self._passed[i] = 0 if i == chosen else self._passed[i] + 1
        return chosen

    def _demand(self) -> tuple[int, str]:
        """For a shared slot source: the lane wanted now and which lanes have waiters here."""
        busy = [i for i, q in enumerate(self._lanes) if q.size]
        starving = [i for i in busy if self._passed[i] >= self.min_share - 1]
        wanted = (starving or busy or [len(LANES) - 1])[0]
        return wanted, "".join("1" if q.size else "0" for q in self._lanes)

    async def _run(self) -> None:
        take = getattr(self.slots, "take", None)
        idle = getattr(self.slots, "idle", None)
        while True:
            while any(q.size for q in self._lanes):
                try:
                    await (take(self._demand) if take is not None else self.slots.acquire())
                except Exception as exc:  # hand the failure to the caller it was for
                    chosen = self._choose()
                    if chosen is not None:
                        waiter = self._lanes[chosen].pop()
                        if not waiter.future.done():
                            waiter.future.set_exception(exc)
                    continue
                # Chosen after the slot came: a login that arrived meanwhile takes it.
                while (chosen := self._choose()) is not None:
                    waiter = self._lanes[chosen].pop()
                    if not waiter.future.done():
                        waiter.future.set_result(None)
                        if self._observe is not None:
                            self._observe(LANES[chosen], self._clock() - waiter.since)
                        break
            if idle is not None:
                await idle()
            # A caller who came while `idle` ran found this pump still running: serve it too.
            if not any(q.size for q in self._lanes):
                return

    async def pause(self, seconds: float) -> None:
        pause = getattr(self.slots, "pause", None)
        if pause is not None:
            await pause(seconds)

    async def aclose(self) -> None:
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
        aclose = getattr(self.slots, "aclose", None)
        if aclose is not None:
            await aclose()


class LoginAttempts:
    """At most `limit` logins per person per `window` seconds (Altegio may lock an account or an
    address that keeps guessing). Counted in this process; `RedisLoginAttempts` (ratelimit.py)
    counts across every process sharing a Redis, and falls back to this when Redis is gone."""

    def __init__(
        self, limit: int = 5, window: float = 300.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._tries: dict[Hashable, deque[float]] = {}

    async def check(self, key: Key) -> None:
        """Count one attempt by `key`, or raise TooManyAttempts saying when to retry."""
        self.count(key)

    def count(self, key: Key) -> None:
        """`check`, synchronously."""
        if key is None or self.limit <= 0:
            return
        now = self._clock()
        tries = self._tries.setdefault(key, deque())
        while tries and tries[0] <= now - self.window:
            tries.popleft()
        if len(tries) >= self.limit:
            raise TooManyAttempts(
                "too many login attempts",
                retry_after=max(1, math.ceil(tries[0] + self.window - now)),
            )
        tries.append(now)
        if len(self._tries) > 10_000:  # forget people whose window has passed
            for old in [k for k, t in self._tries.items() if not t or t[-1] <= now - self.window]:
                del self._tries[old]
