"""The answer to GET /healthz, reused for a moment so a flood of probes is not a flood of queries.

Load balancers, platforms and monitors may probe often and all at once; each probe that finds a
fresh answer takes it, and concurrent probes that find none share the one ping in flight.
Whether Altegio refuses the partner token is what the Altegio client last found out (its own
check, or a call): read as it is, it costs nothing and asks Altegio nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.storage.store import unavailable_reason

# How long an answer is reused, and how long one ping may take.
HEALTH_TTL = 2.0
PING_TIMEOUT = 2.0


@dataclass(frozen=True)
class Health:
    database_ok: bool
    database: str  # "ok", or a few words on what is wrong
    partner_token_refused: bool = False

    @property
    def ok(self) -> bool:
        return self.database_ok and not self.partner_token_refused

    def as_json(self) -> dict[str, object]:
        answer: dict[str, object] = {
            "ok": self.ok,
            "status": "ok" if self.ok else "degraded",
            "database": self.database,
        }
        if self.partner_token_refused:
            answer["altegio_partner_token"] = "refused"  # noqa: S105 - a state, not a secret
        return answer


class HealthCheck:
    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        *,
        partner_token_refused: Callable[[], bool] = lambda: False,
        ttl: float = HEALTH_TTL,
        timeout: float = PING_TIMEOUT,
    ) -> None:
        self._ping = ping
        self._partner_token_refused = partner_token_refused
        self._ttl = ttl
        self._timeout = timeout
        self._last: Health | None = None
        self._checked_at = 0.0
        self._inflight: asyncio.Future[Health] | None = None

    async def check(self) -> Health:
        if self._last is not None and time.monotonic() - self._checked_at < self._ttl:
            database = self._last
        else:
            if self._inflight is None:
                self._inflight = asyncio.ensure_future(self._probe())
            # shield: one probe's client hanging up must not cancel the ping the others wait for.
            database = await asyncio.shield(self._inflight)
        return replace(database, partner_token_refused=self._partner_token_refused())

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
