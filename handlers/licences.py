"""Fetching several locations' licences at once, for /license and /license watching."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from api import AltegioClient, AuthenticationError, License
from handlers.config import HandlerConfig
from handlers.credentials import READ, acting_as
from handlers.people import Person
from handlers.store import Store


@dataclass(frozen=True)
class Licences:
    results: list[License | BaseException]  # each location's licence, or what its fetch raised
    shared: bool  # looked up on the workspace's shared Altegio account, not the person's own


async def get_licences(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    person: Person | None,
    location_ids: Iterable[int],
) -> Licences:
    """Each location's licence, or what its fetch raised, in order.

    A refused token is everyone's problem, so it raises (after `acting_as` has settled what it
    means for the user's session); other failures are left for the caller to show per location.
    The licence call works with the partner token alone in some API versions: a user token is
    sent when there is one, and a 401 then says which token is missing. `person` (who Slack
    says the user is) decides whether the shared service account may answer for them.
    """
    async with acting_as(
        store, config, team, user, purpose=READ, person=person, required=False
    ) as credential:
        # The client's limiter paces these; gather only lets them queue together.
        results = await asyncio.gather(
            *(altegio.get_license(i, user_token=credential.token) for i in location_ids),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, AuthenticationError)]
        if refused:
            raise refused[0]
    return Licences(results, credential.shared)
