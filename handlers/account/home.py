"""App Home: the user's link to Altegio and the licences their channels watch.

Built from the store and Slack's word on the viewer's channels: opening the tab never waits on
Altegio, and never fails because Altegio is down. Only watches of conversations the viewer is
in are listed; when Slack will not say which those are, none are.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.account import messages
from handlers.account.membership import Memberships
from handlers.config import HandlerConfig
from handlers.errors import describe
from handlers.i18n import Translator
from handlers.store import LinkedAccount, Store, StoreUnavailable, Watch

log = logging.getLogger("altegio.handlers")


async def home_opened(
    event: dict[str, Any],
    client: AsyncWebClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    memberships: Memberships,
    t: Translator,
) -> None:
    if event.get("tab") != "home":  # the Messages tab sends the same event
        return
    await publish_home(store, config, team, user, client, memberships, t)


async def publish_home(
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    client: AsyncWebClient,
    memberships: Memberships,
    t: Translator,
) -> None:
    """Publish the tab in the viewer's language, `t`."""
    account: LinkedAccount | None = None
    watches: list[Watch] = []
    problem = None
    try:
        account = await store.get_account(team, user)
        watches = await store.list_watches(team)
    except StoreUnavailable as error:
        # An empty tab would read as "not linked"; say what is wrong instead.
        log.warning("App Home without the store: %s", error)
        problem = describe(error, t)
    visible = await memberships.conversations(client, team, user) if watches else frozenset()
    view = messages.home_view(
        account,
        [w for w in watches if w.channel_id in visible] if visible is not None else [],
        now=datetime.now(UTC),
        t=t,
        service_account=bool(config.service_user_token),
        problem=problem,
        channels_unknown=visible is None,
    )
    await client.views_publish(user_id=user, view=view)


async def refresh_home(
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    client: AsyncWebClient,
    memberships: Memberships,
    t: Translator,
) -> None:
    """Republish the tab after the link changed; the user already has their answer."""
    try:
        await publish_home(store, config, team, user, client, memberships, t)
    except Exception as error:
        log.warning("could not refresh App Home: %s", type(error).__name__)
