"""Tokens and passwords in no log line, no Slack message and no database column, through
whole flows: logging in (wrong, then right password), /license on the linked session and on
the service account, /phone, whoami, App Home, a photo upload, a session Altegio stops
accepting, a partner token Altegio refuses, Slack refusing a reply, and logging out.

Logs are read twice: as the bot's configured handler writes them at DEBUG (what an operator
sees), and as raw records before any redaction (user tokens and passwords must never even be
handed to a logger; the redactor is a second line, not the first).
"""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any

import pytest

from bot.storage import generate_key
from tests.bot_fixtures import MakeBot
from tests.fakes import PARTNER_TOKEN, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import app_home_opened_event, message_event, text_inputs
from tests.faults.support import text_of
from tests.security.conftest import SETTINGS_SECRETS
from tests.security.dumps import account_rows, database_text

PASSWORD = "Sekret-Pass-2026-only-here"
WRONG_PASSWORD = "Wrong-Pass-2026-also-secret"
SERVICE_TOKEN = "5e7c1ab2c3d4e5f60718293a4b5c6d7e"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"


async def _reply(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str, **kw: Any):
    url = fake_slack.response_url()
    assert (await slack.command(command, text, response_url=url, **kw)).status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    return reply


async def _link(slack: SlackSender, fake_slack: FakeSlack, login: str, user_id: str) -> list[str]:
    """Log in through the modal: a wrong password first, then the right one."""
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    url = fake_slack.response_url()
    await slack.command("/altegio", "login", trigger_id=trigger, response_url=url, user_id=user_id)
    (opened,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    view = opened.args["view"]
    answers = []
    for password in (WRONG_PASSWORD, PASSWORD):
        response = await slack.submit(
            view["callback_id"],
            text_inputs({"login": login, "password": password}),
            private_metadata=view["private_metadata"],
            user_id=user_id,
        )
        assert response.status_code == 200
        answers.append(response.text)
    assert "did not accept" in answers[0] and answers[1] == ""
    await fake_slack.wait_for_response(url, timeout=10)
    return answers


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_no_secret_in_logs_slack_or_the_database_through_every_flow(
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    bot_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    database: str,
) -> None:
    url = request.getfixturevalue(f"{database}_url")
    key = generate_key()
    bot = make_bot(database_url=url, bot_encryption_key=key, altegio_user_token=SERVICE_TOKEN)
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464, plan="Business")
    fake_altegio.add_license(4523465, plan="Start")
    maria = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    fake_altegio.add_user("service@example.com", "n/a", name="Ops", user_token=SERVICE_TOKEN)
    user_secrets = [PASSWORD, WRONG_PASSWORD, maria.user_token, SERVICE_TOKEN]
    answers: list[str] = []

    async with SlackSender(bot.url) as slack:
        answers += await _link(slack, fake_slack, maria.login, USER_ID)
        assert "Location 4523464" in text_of(await _reply(slack, fake_slack, "/license", "4523464"))
        assert fake_altegio.requests("/license/")[-1].user_token == maria.user_token
        # Someone unlinked is served by the operator's service account.
        shown = text_of(await _reply(slack, fake_slack, "/license", "4523464", user_id="U0SOMEONE"))
        assert "Location 4523464" in shown
        assert fake_altegio.requests("/license/")[-1].user_token == SERVICE_TOKEN
        await _reply(slack, fake_slack, "/phone", "+44 20 7946 0958")
        assert "Maria Manager" in text_of(await _reply(slack, fake_slack, "/altegio", "whoami"))
        answers.append((await slack.event(app_home_opened_event())).text)

        file = fake_slack.add_file(JPEG, "portrait.jpg")
        await slack.event(message_event("master 17 location 4523464", files=[file]))
        await fake_altegio.wait_for_requests_async(1, path="/images/master", timeout=10)
        await fake_slack.wait_for("chat.postMessage", timeout=10)

        # Slack refusing a reply is logged, with Slack's answer, and still no secret.
        fake_slack.fail("response_url", status=500, times=3)
        await slack.command("/phone", "+44 20 7946 0958", response_url=fake_slack.response_url())
        # Altegio refusing the partner token, in a message that repeats it.
        fake_altegio.fail(
            "/license/", status=401, message=f"Partner token {PARTNER_TOKEN} is not valid"
        )
        shown = text_of(await _reply(slack, fake_slack, "/license", "77"))
        assert "partner token" in shown and PARTNER_TOKEN not in shown
        # The session Altegio stops accepting is forgotten (4523464 is cached: ask another).
        fake_altegio.revoke_token(maria.user_token)
        shown = text_of(await _reply(slack, fake_slack, "/license", "4523465"))
        assert "no longer accepts your linked session" in shown
        assert account_rows(url, TEAM_ID, USER_ID) == 0
        # Linked again, then logged out.
        maria = fake_altegio.add_user("manager2@example.com", PASSWORD, name="Maria Again")
        user_secrets.append(maria.user_token)
        answers += await _link(slack, fake_slack, maria.login, USER_ID)
        assert account_rows(url, TEAM_ID, USER_ID) == 1
        stored = database_text(url)
        assert "forgotten" in text_of(await _reply(slack, fake_slack, "/altegio", "logout"))
        assert account_rows(url, TEAM_ID, USER_ID) == 0

    logged = bot_log.getvalue()
    assert "linked an Altegio account" in logged and "req=" in logged
    raw_records = [r.getMessage() for r in caplog.records] + [caplog.text]
    slack_traffic = [json.dumps([c.args, c.response]) for c in fake_slack.calls()]
    slack_traffic += [json.dumps(body) for body in fake_slack.responses()]
    database = stored + database_text(url)
    for secret in [*SETTINGS_SECRETS, key, *user_secrets]:
        assert secret not in logged, f"a secret in the bot's log output: {secret[:6]}…"
        assert not [m for m in slack_traffic if secret in m], (
            f"a secret sent to Slack: {secret[:6]}…"
        )
        assert not [a for a in answers if secret in a]
        assert secret not in database, f"a secret in the database: {secret[:6]}…"
    for secret in user_secrets:
        assert not [m for m in raw_records if secret in m], (
            f"a secret handed to a logger: {secret[:6]}…"
        )
    # The bot token goes to Slack's Web API and file host only, never elsewhere.
    assert all(c.token in (None, SETTINGS_SECRETS[0]) for c in fake_slack.calls())
    assert all(r.partner_token == PARTNER_TOKEN for r in fake_altegio.requests())
