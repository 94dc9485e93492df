"""The login modal: opening it, and exchanging its login and password for an Altegio session.

Slack waits 3 seconds for the answer to a modal's submission, and that answer is the only way
to keep the modal open with an error on a field. So the submission works against a budget:
Altegio's answer and the store's write must fit in it, or the field says Altegio is slow.
The password lives only in this request: it is sent to Altegio once and never stored, logged
or shown back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from api import AltegioClient, AltegioError, InvalidCredentials
from handlers.account import messages
from handlers.account.home import refresh_home
from handlers.account.membership import Memberships
from handlers.audit import LINK, audit
from handlers.config import HandlerConfig
from handlers.errors import UsageError, slack_error
from handlers.i18n import ENGLISH, Translator, translator
from handlers.store import LinkedAccount, Store, StoreUnavailable

log = logging.getLogger("altegio.handlers")

# Seconds from receiving the submission to answering it, leaving Slack's 3 s some margin.
SUBMIT_BUDGET = 2.5
# Of that, what the store's write may need after Altegio answered.
SAVE_RESERVE = 0.4
_EXPIRED_TRIGGER = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}


def login_metadata(
    response_url: str | None, *, replace: bool = False, language: str | None = None
) -> str:
    """Where to confirm the link privately once the modal is submitted, and in which language
    the form was shown (private_metadata)."""
    data: dict[str, Any] = {}
    if response_url:
        data = {"response_url": response_url, "replace": replace}
    if language:
        data["language"] = language
    return json.dumps(data)


def form_language(raw: str | None) -> Translator:
    """The translator the form was shown in. The submission answers in it without asking Slack
    for the person's locale again: Slack's 3 seconds are for Altegio (SUBMIT_BUDGET)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return ENGLISH
    language = data.get("language") if isinstance(data, dict) else None
    return translator(language if isinstance(language, str) else None)


def read_metadata(raw: str | None) -> tuple[str | None, bool]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return None, False
    if not isinstance(data, dict):
        return None, False
    url = data.get("response_url")
    return (url if isinstance(url, str) and url else None), bool(data.get("replace"))


async def open_login_modal(
    store: Store,
    team: str,
    user: str,
    client: AsyncWebClient,
    trigger_id: str,
    *,
    response_url: str | None,
    replace: bool = False,
    t: Translator = ENGLISH,
) -> None:
    current = await store.get_account(team, user)
    metadata = login_metadata(response_url, replace=replace, language=t.locale)
    view = messages.login_modal(metadata, current, t)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        if slack_error(error) in _EXPIRED_TRIGGER:
            raise UsageError(messages.login_form_expired(t)) from None
        raise


async def login_button(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    store: Store,
    team: str,
    user: str,
    t: Translator,
) -> None:
    """The "Link Altegio account" / "Log in" button, on a message or on App Home."""
    await ack()
    response_url = body.get("response_url")
    # A click on a message replaces that prompt with the confirmation; App Home has no message.
    await open_login_modal(
        store,
        team,
        user,
        client,
        body["trigger_id"],
        response_url=response_url,
        replace=True,
        t=t,
    )


async def login_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    client: AsyncWebClient,
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    memberships: Memberships,
    respond_to: Callable[[str], AsyncRespond],
) -> None:
    started = time.monotonic()
    t = form_language(view.get("private_metadata"))
    values = view.get("state", {}).get("values", {})
    login = _field(values, messages.LOGIN_BLOCK).strip()
    password = _field(values, messages.PASSWORD_BLOCK)
    incomplete = messages.missing_fields(login, password, t)
    if incomplete:
        await ack(response_action="errors", errors=incomplete)
        return
    try:
        account = await _link(altegio, store, team, user, login, password, started)
    except Exception as error:
        _log_refusal(error)
        await audit(store, team, user, LINK, ok=False, reason=_refusal_reason(error))
        await ack(response_action="errors", errors=messages.login_refusal(error, t))
        return
    await ack()
    log.info("linked an Altegio account (Altegio user %s)", account.altegio_user_id)
    await audit(store, team, user, LINK, target=f"altegio user {account.altegio_user_id}")
    response_url, replace = read_metadata(view.get("private_metadata"))
    await confirm_privately(client, respond_to, user, account, response_url, replace=replace, t=t)
    await refresh_home(store, config, team, user, client, memberships, t)


async def _link(
    altegio: AltegioClient,
    store: Store,
    team: str,
    user_id: str,
    login: str,
    password: str,
    started: float,
) -> LinkedAccount:
    remaining = SUBMIT_BUDGET - SAVE_RESERVE - (time.monotonic() - started)
    user = await asyncio.wait_for(altegio.authenticate(login, password), timeout=remaining)
    remaining = max(0.2, SUBMIT_BUDGET - (time.monotonic() - started))
    return await asyncio.wait_for(
        store.save_account(
            team,
            user_id,
            altegio_user_id=user.id,
            name=user.name,
            login=login,
            user_token=user.user_token.get_secret_value(),
        ),
        timeout=remaining,
    )


def _field(values: dict[str, Any], block_id: str) -> str:
    value = values.get(block_id, {}).get(block_id, {}).get("value")
    return value if isinstance(value, str) else ""


def _refusal_reason(error: Exception) -> str:
    """A few words for the audit trail; never the login or the password."""
    if isinstance(error, InvalidCredentials):
        return "wrong login or password"
    if isinstance(error, TimeoutError):
        return "Altegio too slow"
    return type(error).__name__


def _log_refusal(error: Exception) -> None:
    if isinstance(error, InvalidCredentials):
        log.info("Altegio refused a login: wrong login or password")
    elif isinstance(error, TimeoutError):
        log.warning("Altegio did not answer a login within %.1f s", SUBMIT_BUDGET)
    elif isinstance(error, AltegioError | StoreUnavailable):
        log.warning("login failed: %s: %s", type(error).__name__, error)
    else:
        log.error("login failed", exc_info=error)


async def confirm_privately(
    client: AsyncWebClient,
    respond_to: Callable[[str], AsyncRespond],
    user: str,
    account: LinkedAccount,
    response_url: str | None,
    *,
    replace: bool,
    t: Translator = ENGLISH,
) -> None:
    """Tell the user who they are linked as: where they asked, else in a direct message."""
    text = messages.linked(account, t)
    if response_url:
        try:
            sent = await respond_to(response_url)(
                text=text, response_type="ephemeral", replace_original=replace
            )
            if sent.status_code == 200:
                return
            log.info("response_url refused the confirmation (HTTP %s)", sent.status_code)
        except Exception as error:  # expired or unreachable: the DM below still reaches them
            log.info("could not confirm through response_url: %s", type(error).__name__)
    await client.chat_postMessage(channel=user, text=text)
