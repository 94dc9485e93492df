"""App Home: the user's link to Altegio and the licences channels watch.

Built from the store alone: opening the tab never waits on Altegio, and never fails because
Altegio is down.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.account import messages
from handlers.deps import deps, team_of
from handlers.errors import describe
from handlers.store import LinkedAccount, StoreUnavailable, Watch

log = logging.getLogger("altegio.handlers")


async def home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") != "home":  # the Messages tab sends the same event
        return
    await publish_home(context, client)


async def publish_home(context: AsyncBoltContext, client: AsyncWebClient) -> None:
    d = deps(context)
    team, user = team_of(context), context.user_id or ""
    account: LinkedAccount | None = None
    watches: list[Watch] = []
    problem = None
    try:
        account = await d.store.get_account(team, user)
        watches = await d.store.list_watches(team)
    except StoreUnavailable as error:
        # An empty tab would read as "not linked"; say what is wrong instead.
        log.warning("App Home without the store: %s", error)
        problem = describe(error)
    view = messages.home_view(
        account,
        watches,
        now=datetime.now(UTC),
        service_account=bool(d.config.service_user_token),
        problem=problem,
    )
    await client.views_publish(user_id=user, view=view)


async def refresh_home(context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """Republish the tab after the link changed; the user already has their answer."""
    try:
        await publish_home(context, client)
    except Exception as error:
        log.warning("could not refresh App Home: %s", type(error).__name__)
