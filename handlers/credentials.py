"""Which Altegio user token a call runs with, and what a refused token means.

Order: the acting Slack user's linked session, else the operator's service account
(ALTEGIO_USER_TOKEN), else none. A 401 for a stored session ends that session.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from api import AuthenticationError
from api.errors import USER
from handlers.audit import UNLINK, audit
from handlers.config import HandlerConfig
from handlers.errors import NotLinked, SessionEnded
from handlers.store import Store

log = logging.getLogger("altegio.handlers")

Source = Literal["session", "service", "none"]


@dataclass(frozen=True)
class Credential:
    token: str | None = field(repr=False)
    source: Source


async def credential_for(
    store: Store, config: HandlerConfig, team: str, user: str, *, required: bool
) -> Credential:
    account = await store.get_account(team, user)
    if account is not None:
        return Credential(account.user_token, "session")
    if config.service_user_token:
        return Credential(config.service_user_token, "service")
    if required:
        raise NotLinked()
    return Credential(None, "none")


@asynccontextmanager
async def acting_as(
    store: Store, config: HandlerConfig, team: str, user: str, *, required: bool = True
) -> AsyncIterator[Credential]:
    """Yield the user's credential; turn a refused user token into what it means."""
    credential = await credential_for(store, config, team, user, required=required)
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
