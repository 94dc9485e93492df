"""A TTL cache whose misses are single-flight: concurrent lookups of one key share one fetch.

Only successes are cached for `ttl`; the exception types in `negative` (NotFound, for the
client) are remembered for `negative_ttl` so a mistyped id cannot hammer Altegio; every other
error is handed to the callers waiting at that moment and then forgotten. A TTL of 0 turns that
part of the cache off, but concurrent identical lookups are still coalesced.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache

T = TypeVar("T")
_MISSING = object()


class SingleFlightCache(Generic[T]):
    def __init__(
        self,
        ttl: float,
        *,
        negative_ttl: float = 0.0,
        negative: tuple[type[BaseException], ...] = (),
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = float(ttl)
        self.negative_ttl = float(negative_ttl)
        self._negative_types = negative
        self._values: TTLCache[Hashable, T] | None = (
            TTLCache(maxsize=maxsize, ttl=self.ttl, timer=timer) if self.ttl > 0 else None
        )
        self._errors: TTLCache[Hashable, BaseException] | None = (
            TTLCache(maxsize=maxsize, ttl=self.negative_ttl, timer=timer)
            if self.negative_ttl > 0 and negative
            else None
        )
        self._inflight: dict[Hashable, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        return len(self._values or ()) + len(self._errors or ())

    def clear(self) -> None:
        if self._values is not None:
            self._values.clear()
        if self._errors is not None:
            self._errors.clear()

    def invalidate(self, key: Hashable) -> None:
        if self._values is not None:
            self._values.pop(key, None)
        if self._errors is not None:
            self._errors.pop(key, None)

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        if self._values is not None:
            # One lookup, not `in` then `[]`: the entry may expire between the two.
            value = self._values.get(key, _MISSING)
            if value is not _MISSING:
                return value  # type: ignore[return-value]
        if self._errors is not None and (error := self._errors.get(key)) is not None:
            # A fresh copy each time: re-raising one instance would keep growing its traceback.
            raise copy.copy(error)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, fetch))
            self._inflight[key] = task
            task.add_done_callback(_consume_error)
        # Shielded: one caller giving up (a cancelled Slack request) must not cancel the fetch
        # that the other callers are waiting for.
        return await asyncio.shield(task)

    async def _fill(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await fetch()
        except self._negative_types as error:
            if self._errors is not None:
                self._errors[key] = copy.copy(error)
            raise
        else:
            if self._values is not None:
                self._values[key] = value
            return value
        finally:
            # Leave the in-flight map in the same step as the result is stored, so no caller can
            # find a finished fetch here and inherit an error that was not meant to be cached.
            if self._inflight.get(key) is asyncio.current_task():
                del self._inflight[key]


def _consume_error(task: asyncio.Task[object]) -> None:
    # When every waiter was cancelled nobody reads the outcome; read it here so asyncio does not
    # report "exception was never retrieved" for an error that was already dealt with.
    if not task.cancelled():
        task.exception()
