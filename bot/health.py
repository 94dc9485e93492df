"""The answer to GET /healthz, reused for a moment so a flood of probes is not a flood of queries.

Load balancers, platforms and monitors may probe often and all at once; each probe that finds a
fresh answer takes it, and concurrent probes that find none share the one ping in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.storage.store import unavailable_reason

# How long an answer is reused, and how long one ping may take.
HEALTH_TTL = 2.0
PING_TIMEOUT = 2.0


@dataclass(frozen=True)
class Health:
    ok: bool
    database: str  # "ok", or a few words on what is wrong

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "database": self.database}


class HealthCheck:
    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        *,
        ttl: float = HEALTH_TTL,
        timeout: float = PING_TIMEOUT,
    ) -> None:
        self._ping = ping
        self._ttl = ttl
        self._timeout = timeout
        self._last: Health | None = None
        self._checked_at = 0.0
        self._inflight: asyncio.Future[Health] | None = None

    async def check(self) -> Health:
        if self._last is not None and time.monotonic() - self._checked_at < self._ttl:
            return self._last
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._probe())
        # shield: one probe's client hanging up must not cancel the ping the others wait for.
        return await asyncio.shield(self._inflight)

    async def _probe(self) -> Health:
        try:
            try:
                await asyncio.wait_for(self._ping(), self._timeout)
                health = Health(True, "ok")
            except Exception as exc:
                health = Health(False, unavailable_reason(exc))
            self._last, self._checked_at = health, time.monotonic()
            return health
        finally:
            self._inflight = None
