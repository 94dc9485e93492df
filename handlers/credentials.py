"""Which Altegio user token a call runs with, and what a refused token means.

Every call says what it is for. A WRITE (a photo upload: something that changes Altegio) runs
only on the acting Slack user's own linked session; without one it raises NotLinked. A READ
(licences) runs on the user's session, else on the operator's service account
(ALTEGIO_USER_TOKEN), else with no user token. The service account serves only a member of the
installing workspace as Slack describes them: a guest, someone from another organisation in a
shared channel, or someone Slack could not describe gets their own session or a refusal, never
the operator's account. A 401 for a stored session ends that session: the Altegio client blames
the user token only once a partner-only check has shown the partner token is still good
(otherwise the error is the partner token's, or Altegio's being unreachable, and sessions stay).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from api import AuthenticationError
from api.errors import USER
from handlers.audit import UNLINK, audit
from handlers.config import HandlerConfig
from handlers.errors import NotLinked, Outsider, SessionEnded, Unidentified
from handlers.people import Person
from handlers.store import LinkedAccount, Store

log = logging.getLogger("altegio.handlers")

Source = Literal["session", "service", "none"]


class Purpose(enum.Enum):
    READ = "read"  # looks something up: the service account may serve a trusted member
    WRITE = "write"  # changes something in Altegio: only the writer's own session


READ = Purpose.READ
WRITE = Purpose.WRITE


@dataclass(frozen=True)
class Credential:
    token: str | None = field(repr=False)
    source: Source
    # The linked session's account ("session" only): replies name whose account acted.
    account: LinkedAccount | None = field(default=None, repr=False)

    @property
    def shared(self) -> bool:
        """Whether the operator's service account answers, not the person's own."""
        return self.source == "service"


async def credential_for(
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    *,
    purpose: Purpose,
    person: Person | None = None,
    required: bool = True,
) -> Credential:
    """The credential for `user` of workspace `team` to act with, for `purpose`.

    `person` is who Slack says the user is (`handlers.people`); without it nobody is vouched
    for, so the service account is not used. `required`: a READ with no credential at all
    raises NotLinked instead of going out with the partner token alone.
    """
    account = await store.get_account(team, user)
    if account is not None:
        return Credential(account.user_token, "session", account)
    if purpose is not Purpose.READ:
        raise NotLinked()
    if config.service_user_token:
        _vouch(person, team)
        return Credential(config.service_user_token, "service")
    if required:
        raise NotLinked()
    return Credential(None, "none")


def _vouch(person: Person | None, team: str) -> None:
    """Raise unless `person` is a full member of `team`, whom the service account may serve."""
    if person is None or not person.known:
        log.info("service account refused: Slack did not say who the user is")
        raise Unidentified()
    if person.is_outsider(team):
        log.info(
            "service account refused: %s",
            "a guest" if person.is_guest else "a person from another workspace",
        )
        raise Outsider()


@asynccontextmanager
async def acting_as(
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    *,
    purpose: Purpose,
    person: Person | None = None,
    required: bool = True,
) -> AsyncIterator[Credential]:
    """Yield the user's credential for `purpose`; turn a refused user token into what it means."""
    credential = await credential_for(
        store, config, team, user, purpose=purpose, person=person, required=required
    )
    try:
        yield credential
    except AuthenticationError as error:
        if error.token != USER:
            raise
        await settle_refused_token(store, team, user, credential)
        raise


async def settle_refused_token(store: Store, team: str, user: str, credential: Credential) -> None:
    """Raise what a 401 for `credential`'s user token means, forgetting a dead session."""
    if credential.source == "session":
        if await store.forget_account(team, user):
            await audit(store, team, user, UNLINK, reason="Altegio refused the session")
        log.info("forgot a session that Altegio refused")
        raise SessionEnded()
    if credential.source == "none":
        raise NotLinked()
    log.error("Altegio refused the service account token (ALTEGIO_USER_TOKEN)")
