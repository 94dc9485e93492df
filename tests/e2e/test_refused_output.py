"""When Slack refuses what the bot sends for its blocks, the person still gets an answer: the
served bot against a fake Slack told to refuse the next payloads with blocks, whatever they hold.

Each reply is sent once more as its plain text (no blocks) and shown exactly once; a refused
Home tab is published again as one sentence; a refused modal becomes a private message. The
warning names Slack's error and what was being sent, never its content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import pytest

from handlers.blocks import LOGIN_ACTION
from tests.alerts.support import OPS, alerts_in, run_sweep
from tests.bot_server import BotServer
from tests.e2e.test_images import link, share, thread_replies
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import app_home_opened_event, button

PLAN = "Platinum Refusal Plan"  # content: never in a log line


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith("Slack refused")
    ]


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long", "invalid_arguments"])
async def test_a_refused_license_card_arrives_once_as_its_text(
    error: str,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    warnings: pytest.LogCaptureFixture,
) -> None:
    fake_altegio.add_license(4523464, plan=PLAN, days_left=12)
    fake_slack.refuse_blocks(error)
    url = fake_slack.response_url()
    assert (await slack.command("/license", "4523464", response_url=url)).status_code == 200

    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "blocks" not in reply
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Location 4523464: " + PLAN + ", deactivates ")
    (refused,) = fake_slack.refused_responses
    assert refused.body["blocks"] and refused.url == url
    assert fake_slack.responses(url) == [reply]  # shown once

    (line,) = refusal_lines(warnings)
    assert error in line and "license_command" in line and "response_url" in line
    assert PLAN not in logged_text(warnings) and "4523464" not in line


async def test_a_refused_photo_reply_arrives_once_in_the_thread_as_text(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    warnings: pytest.LogCaptureFixture,
) -> None:
    link(bot, fake_altegio)
    event, _ = share(fake_slack)
    fake_slack.refuse_blocks("invalid_blocks")
    assert (await slack.event(event, event_id="EvREFUSED1")).status_code == 200

    refused, sent = await thread_replies(fake_slack, event, 2)
    assert not refused.ok and refused.args["blocks"]
    assert sent.ok and "blocks" not in sent.args
    assert "team member 17 at location 4523464" in sent.args["text"]
    (shown,) = [m for m in fake_slack.messages if m.get("thread_ts") == event["ts"]]
    assert shown["text"] == sent.args["text"]

    (line,) = refusal_lines(warnings)
    assert "invalid_blocks" in line and "chat.postMessage" in line and "on_file_share" in line
    assert "portrait.jpg" not in line and sent.args["text"] not in logged_text(warnings)


async def test_a_refused_alert_is_posted_once_as_what_it_says(
    bot: BotServer,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    warnings: pytest.LogCaptureFixture,
) -> None:
    fake_altegio.add_license(1001, plan=PLAN, days_left=5)
    assert bot.call(bot.runtime.store.add_watch(TEAM_ID, OPS, 1001, USER_ID))
    fake_slack.refuse_blocks("invalid_blocks")

    summary = run_sweep(bot)

    (alert,) = alerts_in(fake_slack, OPS)
    assert "blocks" not in alert
    assert alert["text"].startswith(f"Location 1001: Altegio licence {PLAN}, deactivation date ")
    assert alert["text"].endswith(": 5 days left.")
    assert summary.posted == 1 and summary.post_failures == 0
    assert [c.ok for c in fake_slack.calls("chat.postMessage")] == [False, True]
    # Recorded as sent: the next sweep posts nothing more.
    run_sweep(bot)
    assert len(alerts_in(fake_slack, OPS)) == 1

    (line,) = refusal_lines(warnings)
    assert "invalid_blocks" in line and "alert days:7" in line
    assert PLAN not in logged_text(warnings)


async def test_a_refused_home_tab_is_published_again_as_one_sentence(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    warnings: pytest.LogCaptureFixture,
) -> None:
    link(bot, fake_altegio)  # the tab would name "Maria Manager"
    fake_slack.refuse_blocks("invalid_arguments")
    assert (await slack.event(app_home_opened_event(USER_ID))).status_code == 200

    refused, published = await fake_slack.wait_for("views.publish", 2, user_id=USER_ID)
    assert not refused.ok and "Maria Manager" in json.dumps(refused.args["view"])
    assert published.ok
    (section,) = published.args["view"]["blocks"]
    assert section["text"]["text"].startswith("Your Home tab could not be shown in full.")

    (line,) = refusal_lines(warnings)
    assert "invalid_arguments" in line and "views.publish" in line and "home_opened" in line
    assert "Maria Manager" not in logged_text(warnings)


async def test_a_refused_home_tab_speaks_the_viewers_language(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user(USER_ID, "ana", locale="es-LA")
    fake_slack.refuse_blocks("invalid_blocks")
    assert (await slack.event(app_home_opened_event(USER_ID))).status_code == 200
    _, published = await fake_slack.wait_for("views.publish", 2, user_id=USER_ID)
    (section,) = published.args["view"]["blocks"]
    assert section["text"]["text"].startswith("Tu pestaña de inicio no se pudo mostrar entera.")


async def test_a_refused_login_modal_is_told_privately_where_the_command_was_typed(
    slack: SlackSender, fake_slack: FakeSlack, warnings: pytest.LogCaptureFixture
) -> None:
    fake_slack.refuse_blocks("invalid_arguments")
    url = fake_slack.response_url()
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    response = await slack.command("/altegio", "login", trigger_id=trigger, response_url=url)
    assert response.status_code == 200

    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert reply["response_type"] == "ephemeral"
    assert "Slack would not show the form (invalid_arguments)" in reply["text"]
    (call,) = fake_slack.calls("views.open")
    assert not call.ok
    assert fake_slack.responses(url) == [reply]

    (line,) = refusal_lines(warnings)
    assert "views.open" in line and "altegio_command" in line


async def test_a_refused_login_modal_from_the_home_tab_is_a_direct_message(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse_blocks("invalid_arguments")
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    await slack.action(button(LOGIN_ACTION), view={"type": "home"}, trigger_id=trigger)

    (dm,) = await fake_slack.wait_for("chat.postMessage", channel=USER_ID, timeout=10)
    assert dm.ok and "Slack would not show the form" in dm.args["text"]
    assert [c.ok for c in fake_slack.calls("views.open")] == [False]


async def test_a_reply_refused_twice_is_given_up_on_after_its_plain_text(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    warnings: pytest.LogCaptureFixture,
) -> None:
    """Slack refusing even the plain text (a fault beyond the blocks): one more try, no loop."""
    fake_altegio.add_license(4523464, plan=PLAN)
    fake_slack.fail("response_url", status=400, body=b"invalid_blocks", times=None)
    url = fake_slack.response_url()
    assert (await slack.command("/license", "4523464", response_url=url)).status_code == 200

    await _logged(warnings, "Slack refused a reply to response_url: HTTP 400")
    await asyncio.sleep(0.3)  # time for any further attempt
    posted = [r for r in fake_slack.requests() if r.path.startswith("/response/")]
    assert [bool((r.json or {}).get("blocks")) for r in posted] == [True, False]
    assert fake_slack.responses(url) == []


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    deadline = time.monotonic() + 10
    while not any(text in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, f"the bot never logged {text!r}"
        await asyncio.sleep(0.02)
