"""Slack's Web API failing under the bot: views.open, views.publish and chat.postMessage.

slack_sdk retries 429 (after Retry-After) and 500/503, and 502/504 for calls that are safe to
repeat; what still fails ends as one plain private sentence where there is somewhere to say it,
and never as a crash.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest

from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import USER_ID, app_home_opened_event, text_inputs
from tests.faults.support import UNEXPECTED, ask, assert_plain_private, text_of

pytestmark = pytest.mark.faults

PASSWORD = "Fault-Suite-Pass-1"


async def _login_command(
    slack: SlackSender, fake_slack: FakeSlack, url: str | None = None
) -> tuple[str, Any]:
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    kwargs = {"response_url": url} if url else {}
    response = await slack.command("/altegio", "login", trigger_id=trigger, **kwargs)
    assert response.status_code == 200
    return trigger, response


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "429"])
async def test_views_open_is_retried_through_a_slack_hiccup(
    slack: SlackSender, fake_slack: FakeSlack, fault: str
) -> None:
    if fault == "429":
        fake_slack.rate_limit("views.open", times=1, retry_after=1)
    else:
        fake_slack.fail("views.open", status=int(fault), times=1)
    trigger, _ = await _login_command(slack, fake_slack)
    calls = await fake_slack.wait_for("views.open", 2, trigger_id=trigger, timeout=10)
    assert [c.status for c in calls] == [int(fault), 200]
    assert calls[-1].ok


# ("garbage", bytes that are not UTF-8, makes slack_sdk itself raise UnicodeDecodeError.)
@pytest.mark.parametrize("body", ["truncated"])
async def test_views_open_failing_for_good_is_one_plain_sentence(
    slack: SlackSender, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    fake_slack.fail("views.open", status=500, times=None, body=body)
    url = fake_slack.response_url()
    await _login_command(slack, fake_slack, url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    shown = assert_plain_private(reply)
    assert UNEXPECTED not in shown and "Slack" in shown
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


async def test_app_home_publish_failing_is_logged_and_the_bot_goes_on(
    slack: SlackSender, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("views.publish", status=503, times=None)
    response = await slack.event(app_home_opened_event())
    assert response.status_code == 200
    await fake_slack.wait_for("views.publish", 3, timeout=15)  # the first try and 2 retries
    assert "not linked" in text_of(await ask(slack, fake_slack, "/altegio", "whoami"))


async def test_logout_answers_even_when_app_home_cannot_be_refreshed(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    bot.call(
        bot.runtime.store.save_account(
            "T0TEST",
            USER_ID,
            altegio_user_id=user.id,
            name=user.name,
            login=user.login,
            user_token=user.user_token,
        )
    )
    fake_slack.fail("views.publish", status=500, times=None)
    shown = text_of(await ask(slack, fake_slack, "/altegio", "logout"))
    assert "forgotten your Altegio session" in shown
    assert bot.call(bot.runtime.store.get_account("T0TEST", USER_ID)) is None


async def test_the_login_confirmation_dm_is_retried_through_a_429(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """Logged in from App Home (no response_url): the confirmation is a DM, sent despite a 429."""
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    trigger, _ = await _login_command(slack, fake_slack)
    (opened,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    view = opened.args["view"]
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    response = await slack.submit(
        view["callback_id"],
        text_inputs({"login": user.login, "password": PASSWORD}),
        private_metadata="{}",
    )
    assert response.status_code == 200 and response.text == ""
    calls = await fake_slack.wait_for("chat.postMessage", 2, channel=USER_ID, timeout=10)
    assert [c.status for c in calls] == [429, 200]
    assert "Maria Manager" in text_of(calls[-1].args)


async def test_a_direct_message_is_not_repeated_after_a_502(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """A 502 may come after Slack posted the message: posting again could show it twice."""
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    trigger, _ = await _login_command(slack, fake_slack)
    (opened,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    fake_slack.fail("chat.postMessage", status=502, times=1)
    response = await slack.submit(
        opened.args["view"]["callback_id"],
        text_inputs({"login": user.login, "password": PASSWORD}),
        private_metadata="{}",
    )
    assert response.status_code == 200
    first, then = await fake_slack.wait_for("chat.postMessage", 2, channel=USER_ID, timeout=10)
    assert first.status == 502 and "Maria Manager" in text_of(first.args)
    # What follows is the sentence about Slack's trouble, not the confirmation again.
    assert then.ok and "Slack" in text_of(then.args)
    assert "Maria Manager" not in text_of(then.args)
