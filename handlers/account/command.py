"""/altegio login | whoami | logout | help, and the Log out button."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers import input
from handlers.account import messages
from handlers.account.home import refresh_home
from handlers.account.login import open_login_modal
from handlers.account.membership import Memberships
from handlers.audit import UNLINK, audit
from handlers.config import HandlerConfig
from handlers.i18n import Translator
from handlers.store import LinkedAccount, Store


async def altegio_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    memberships: Memberships,
    t: Translator,
) -> None:
    await ack()
    text = input.from_slack(command.get("text") or "")
    words = text.split()
    sub = input.ACCOUNT.match(words)[0]
    if input.asks_for_help(text):
        await respond(text=messages.usage(t), response_type="ephemeral")
    elif sub == "login":
        await open_login_modal(
            store,
            team,
            user,
            client,
            command["trigger_id"],
            response_url=command.get("response_url"),
            t=t,
        )
    elif sub == "whoami":
        account = await store.get_account(team, user)
        await respond(
            text=messages.whoami_text(account, t),
            blocks=messages.whoami(account, service_account=bool(config.service_user_token), t=t),
            response_type="ephemeral",
        )
    elif sub == "logout":
        forgotten, account = await forget(store, team, user)
        text = messages.logged_out(account, t) if forgotten else messages.not_linked_logout(t)
        await respond(text=text, response_type="ephemeral")
        if forgotten:
            await refresh_home(store, config, team, user, client, memberships, t)
    else:
        await respond(text=messages.unknown_subcommand(words[0], t), response_type="ephemeral")


async def logout_button(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    memberships: Memberships,
    t: Translator,
) -> None:
    """Log out from App Home or from a whoami reply."""
    await ack()
    forgotten, account = await forget(store, team, user)
    if body.get("response_url"):
        text = messages.logged_out(account, t) if forgotten else messages.not_linked_logout(t)
        await respond(text=text, response_type="ephemeral", replace_original=True)
    await refresh_home(store, config, team, user, client, memberships, t)


async def forget(store: Store, team: str, user: str) -> tuple[bool, LinkedAccount | None]:
    """Forget the user's session; the account it was (when readable) names it in the reply."""
    account = await store.get_account(team, user)
    forgotten = await store.forget_account(team, user)
    if forgotten:
        target = f"altegio user {account.altegio_user_id}" if account else ""
        await audit(store, team, user, UNLINK, target=target, reason="logout")
    return forgotten, account
