"""Photo shares while Slack or Altegio misbehave: each photo is uploaded at most once, the
sharer hears what happened in the thread, and nothing crashes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from handlers.images.messages import FAILURE_EMOJI, RETRY_ACTION, SUCCESS_EMOJI
from tests.bot_server import BotServer
from tests.e2e.support import save_link
from tests.fakes import USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button, message_event
from tests.faults.support import UNEXPECTED, text_of

pytestmark = pytest.mark.faults

CAPTION = "master 17 location 4523464"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"


async def _share(slack: SlackSender, fake_slack: FakeSlack, **file_fields: Any) -> dict:
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    event = message_event(CAPTION, files=[{**file, **file_fields}])
    assert (await slack.event(event)).status_code == 200
    return event


def _no_crash_said(fake_slack: FakeSlack) -> None:
    for call in fake_slack.calls():
        assert UNEXPECTED not in text_of(call.args), call.args


@pytest.mark.parametrize(
    ("method", "fault"), [("chat.postMessage", "429"), ("reactions.add", "500")]
)
async def test_slack_hiccups_on_the_answer_do_not_lose_it_or_upload_twice(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    method: str,
    fault: str,
) -> None:
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    if fault == "429":
        fake_slack.rate_limit(method, times=1, retry_after=1)
    else:
        fake_slack.fail(method, status=500, times=1)
    await _share(slack, fake_slack)
    calls = await fake_slack.wait_for(method, 2, timeout=15)
    assert [c.status for c in calls] == [int(fault), 200]
    await fake_slack.wait_for("reactions.add", timeout=10, name=SUCCESS_EMOJI, ok=True)
    assert len(fake_altegio.uploads) == 1
    _no_crash_said(fake_slack)


async def test_slack_refusing_every_answer_still_uploads_once_and_the_bot_goes_on(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    fake_slack.fail("chat.postMessage", status=503, times=None)
    await _share(slack, fake_slack)
    await fake_slack.wait_for("chat.postMessage", 3, timeout=15)  # the first try and 2 retries
    await fake_slack.wait_for("reactions.add", timeout=10, name=SUCCESS_EMOJI)
    assert len(fake_altegio.uploads) == 1
    fake_slack.rules.clear()
    url = fake_slack.response_url()
    await slack.command("/phone", "+44 20 7946 0958", response_url=url)
    await fake_slack.wait_for_response(url, timeout=10)


@pytest.mark.parametrize("body", ["truncated"])
async def test_files_info_answering_junk_is_a_plain_failure_with_try_again(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    body: str,
) -> None:
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    fake_slack.fail("files.info", status=500, body=body, times=None)
    event = await _share(slack, fake_slack, file_access="check_file_info")
    (reply,) = await fake_slack.wait_for(
        "chat.postMessage", timeout=15, channel=event["channel"], thread_ts=event["ts"]
    )
    assert "Slack would not describe the file" in text_of(reply.args)
    assert fake_altegio.uploads == []
    _no_crash_said(fake_slack)


async def test_an_upload_cut_off_is_not_repeated_blindly_and_try_again_uploads_it_once(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    fake_altegio.drop("/images/master", times=1, method="POST")
    event = await _share(slack, fake_slack)
    (failure,) = await fake_slack.wait_for(
        "chat.postMessage", timeout=15, channel=event["channel"], thread_ts=event["ts"]
    )
    await fake_slack.wait_for("reactions.add", timeout=10, name=FAILURE_EMOJI)
    assert len(fake_altegio.requests("/images/master")) == 1  # a POST is never retried blindly
    assert fake_altegio.uploads == []
    (retry,) = [
        e
        for b in failure.args["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == RETRY_ACTION
    ]
    message = {"type": "message", "ts": failure.response["ts"], **failure.args}
    for _ in range(2):  # a double click uploads once
        await slack.action(
            button(RETRY_ACTION, retry["value"]),
            message=message,
            response_url=fake_slack.response_url(),
        )
    await fake_slack.wait_for("reactions.add", timeout=10, name=SUCCESS_EMOJI)
    await asyncio.sleep(0.3)
    assert len(fake_altegio.uploads) == 1


async def test_the_private_login_prompt_is_retried_through_a_429(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """An unlinked sharer is asked privately (chat.postEphemeral) to link, despite a 429."""
    fake_slack.rate_limit("chat.postEphemeral", times=1, retry_after=1)
    await _share(slack, fake_slack)
    calls = await fake_slack.wait_for("chat.postEphemeral", 2, timeout=15, user=USER_ID)
    assert [c.status for c in calls] == [429, 200]
    assert "Link" in text_of(calls[-1].args) or "link" in text_of(calls[-1].args)
    assert fake_altegio.uploads == []
