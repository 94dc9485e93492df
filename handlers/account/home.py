"""App Home: the user's link to Altegio and the licences channels watch.

Built from the store alone: opening the tab never waits on Altegio, and never fails because
Altegio is down.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.account import messages
from handlers.config import HandlerConfig
from handlers.errors import describe
from handlers.store import LinkedAccount, Store, StoreUnavailable, Watch

log = logging.getLogger("altegio.handlers")


async def home_opened(
    event: dict[str, Any],
    client: AsyncWebClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
) -> None:
    if event.get("tab") != "home":  # the Messages tab sends the same event
        return
    await publish_home(store, config, team, user, client)


async def publish_home(
    store: Store, config: HandlerConfig, team: str, user: str, client: AsyncWebClient
) -> None:
    account: LinkedAccount | None = None
    watches: list[Watch] = []
    problem = None
    try:
        account = await store.get_account(team, user)
        watches = await store.list_watches(team)
    except StoreUnavailable as error:
        # An empty tab would read as "not linked"; say what is wrong instead.
        log.warning("App Home without the store: %s", error)
        problem = describe(error)
    view = messages.home_view(
        account,
        watches,
        now=datetime.now(UTC),
        service_account=bool(config.service_user_token),
        problem=problem,
    )
    await client.views_publish(user_id=user, view=view)


async def refresh_home(
    store: Store, config: HandlerConfig, team: str, user: str, client: AsyncWebClient
) -> None:
    """Republish the tab after the link changed; the user already has their answer."""
    try:
        await publish_home(store, config, team, user, client)
    except Exception as error:
        log.warning("could not refresh App Home: %s", type(error).__name__)
