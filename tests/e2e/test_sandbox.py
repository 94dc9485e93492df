"""ALTEGIO_SANDBOX=1: every way the bot speaks to people carries the sandbox mark, end to end.

The bot answers through respond() (a command's or a button's response_url), a response_url it
kept (the login form's confirmation), chat.postMessage (direct messages, photo replies, alerts),
chat.postEphemeral, chat.update (a clicked alert) and views (the login form, the Home tab).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import LOGIN, PASSWORD
from handlers.alerts.messages import SNOOZE_1D
from handlers.blocks import LOGIN_ACTION
from tests.alerts.support import button_of, cli_env, start_cli
from tests.bot_fixtures import MakeBot
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import (
    USER_ID,
    app_home_opened_event,
    button,
    message_event,
    text_inputs,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 40 + b"\xff\xd9"
OPS = "C0OPS"


def marked(message: dict[str, Any]) -> bool:
    """What a person sees: the text starts with the mark, and the last block says it."""
    blocks = message.get("blocks") or []
    return (
        str(message.get("text", "")).startswith("[Sandbox data]")
        and bool(blocks)
        and "Sandbox data" in json.dumps(blocks[-1])
    )


def view_marked(view: dict[str, Any]) -> bool:
    blocks = view.get("blocks") or []
    return bool(blocks) and "Sandbox data" in json.dumps(blocks[-1])


@pytest.fixture
def sandbox_bot(make_bot: MakeBot) -> BotServer:
    return make_bot(altegio_sandbox=True)


@pytest.fixture
async def slack(sandbox_bot: BotServer) -> AsyncIterator[SlackSender]:
    async with SlackSender(sandbox_bot.url) as sender:
        yield sender


async def answer(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str) -> dict:
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url, channel_id=OPS)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    return reply


async def log_in(
    slack: SlackSender, fake_slack: FakeSlack, *, response_url: str | None = None
) -> dict[str, Any]:
    """Open the login form (from a command, or from the Home tab without one) and submit the
    sandbox's login; returns the form as it was opened."""
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    if response_url is not None:
        sent = await slack.command(
            "/altegio", "login", trigger_id=trigger, response_url=response_url
        )
    else:
        sent = await slack.action(button(LOGIN_ACTION), view={"type": "home"}, trigger_id=trigger)
    assert sent.status_code == 200
    (opened,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    view = opened.args["view"]
    submitted = await slack.submit(
        view["callback_id"],
        text_inputs({"login": LOGIN, "password": PASSWORD}),
        private_metadata=view["private_metadata"],
    )
    assert submitted.status_code == 200 and submitted.text == ""
    return view


async def test_answers_forms_confirmations_and_the_home_tab_carry_the_mark(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    # respond(): answers, and a refusal.
    for command, text in (
        ("/license", "4523464"),
        ("/phone", "+44 20 7946 0958"),
        ("/license", "not-a-location"),
        ("/altegio", "whoami"),
    ):
        reply = await answer(slack, fake_slack, command, text)
        assert marked(reply), (command, text, reply)

    # The login form, and its confirmation through the command's response_url.
    url = fake_slack.response_url()
    form = await log_in(slack, fake_slack, response_url=url)
    assert view_marked(form)
    (confirmation,) = await fake_slack.wait_for_response(url, timeout=10)
    assert marked(confirmation), confirmation

    # The Home tab, refreshed after the login and opened.
    (refreshed,) = await fake_slack.wait_for("views.publish", user_id=USER_ID, timeout=10)
    assert view_marked(refreshed.args["view"])
    assert (await slack.event(app_home_opened_event())).status_code == 200
    published = await fake_slack.wait_for("views.publish", 2, user_id=USER_ID, timeout=10)
    assert view_marked(published[-1].args["view"])

    # Logging in again from the Home tab: confirmed by direct message.
    await log_in(slack, fake_slack)
    (dm,) = await fake_slack.wait_for("chat.postMessage", channel=USER_ID, timeout=10)
    assert marked(dm.args), dm.args


async def test_photo_replies_alerts_and_clicked_alerts_carry_the_mark(
    sandbox_bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    tmp_path: Path,
) -> None:
    await log_in(slack, fake_slack, response_url=fake_slack.response_url())

    # A photo shared in a channel: the reply in its thread.
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    event = message_event("master 17 location 4523464", files=[file], channel=OPS)
    assert (await slack.event(event)).status_code == 200
    (reply,) = await fake_slack.wait_for(
        "chat.postMessage", channel=OPS, thread_ts=event["ts"], timeout=10
    )
    assert marked(reply.args), reply.args

    # An alert the sweep posts, and the alert updated by a click.
    watched = await answer(slack, fake_slack, "/license", "watch 4523464")
    assert marked(watched)
    database_url = str(sandbox_bot.settings.database_url)
    sweep = start_cli(cli_env(database_url, None, fake_altegio, fake_slack, altegio_sandbox="1"))
    _, err = await asyncio.to_thread(sweep.communicate, timeout=60)
    assert sweep.returncode == 0, err
    posts = await fake_slack.wait_for("chat.postMessage", 2, channel=OPS, ok=True, timeout=10)
    (alert,) = [p.args for p in posts if "thread_ts" not in p.args]  # the photo reply aside
    assert "4523464" in json.dumps(alert) and marked(alert), alert
    message = next(m for m in fake_slack.messages if m["channel"] == OPS and "thread_ts" not in m)
    element = button_of(alert, SNOOZE_1D)
    clicked = await slack.action(
        button(SNOOZE_1D, element.get("value", ""), block_id="alert_actions"),
        channel_id=OPS,
        message={k: v for k, v in message.items() if k != "channel"},
        response_url=fake_slack.response_url(),
    )
    assert clicked.status_code == 200
    (update,) = await fake_slack.wait_for("chat.update", channel=OPS, timeout=10)
    assert marked(update.args), update.args
