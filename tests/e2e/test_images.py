"""Photos shared in a channel, end to end: signed events to the served bot, the fake Slack
serving the file, the fake Altegio receiving the upload."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from bot.storage import generate_key
from handlers.blocks import LOGIN_ACTION
from handlers.images import upload
from handlers.images.messages import FAILURE_EMOJI, RETRY_ACTION, SUCCESS_EMOJI
from tests.bot_server import BotServer
from tests.e2e.support import link
from tests.fakes import BOT_TOKEN, CHANNEL_ID, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button, event_callback, file_shared_event, message_event
from tests.fakes.slack import SlackCall

CAPTION = "master 17 location 4523464"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 40 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40


@pytest.fixture
def images_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="altegio.images")
    return caplog


def share(
    fake_slack: FakeSlack,
    content: bytes = JPEG,
    name: str = "portrait.jpg",
    caption: str = CAPTION,
    **file_options: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a file_share message event, its file object) for a photo hosted by the fake Slack."""
    file = fake_slack.add_file(content, name, **file_options)
    return message_event(caption, files=[file]), file


def text_of(message: dict[str, Any]) -> str:
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [str(e.get("text", "")) for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(parts)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
    ]


async def thread_replies(
    fake_slack: FakeSlack, event: dict[str, Any], count: int = 1
) -> list[SlackCall]:
    return await fake_slack.wait_for(
        "chat.postMessage", count, timeout=10, channel=event["channel"], thread_ts=event["ts"]
    )


async def logged(caplog: pytest.LogCaptureFixture, text: str, count: int = 1) -> None:
    """Wait until the bot has logged `text` `count` times: how a test sees a silent outcome."""
    deadline = time.monotonic() + 10
    while sum(text in r.getMessage() for r in caplog.records) < count:
        assert time.monotonic() < deadline, f"the bot never logged {text!r}"
        await asyncio.sleep(0.02)


async def test_captioned_jpeg_is_uploaded_once_on_the_sharers_account(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    images_log: pytest.LogCaptureFixture,
) -> None:
    user = link(bot, fake_altegio)
    event, file = share(fake_slack)

    response = await slack.event(event, event_id="EvPHOTO1")
    assert response.status_code == 200

    (upload,) = await fake_altegio.wait_for_requests_async(
        1, path="/images/master", method="POST", timeout=10
    )
    assert upload.form == {"company_id": "4523464", "master_id": "17"}
    assert upload.files["image"].content == JPEG
    assert upload.files["image"].content_type == "image/jpeg"
    assert upload.files["image"].filename == "portrait.jpg"
    assert upload.user_token == user.user_token
    (download,) = fake_slack.downloads(file["id"])
    assert download.authorization == f"Bearer {BOT_TOKEN}"

    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "team member 17 at location 4523464" in shown
    stored = fake_altegio.uploads[0]
    assert f"Image group {stored.group_id}" in shown
    assert "<https://assets.alteg.io/master/basic/" in shown
    (reaction,) = await fake_slack.wait_for("reactions.add", timeout=10)
    assert (reaction.args["channel"], reaction.args["timestamp"]) == (CHANNEL_ID, event["ts"])
    assert reaction.args["name"] == SUCCESS_EMOJI

    # Slack redelivers the same event (same id, X-Slack-Retry-Num), and sends file_shared.
    retry = await slack.event(event, event_id="EvPHOTO1", retry_num=1)
    assert retry.status_code == 200
    await logged(images_log, "photo share EvPHOTO1 was handled already (retry 1)")
    also = await slack.event(file_shared_event(file["id"]), event_id="EvFILESHARED1")
    assert also.status_code == 200
    assert len(fake_altegio.uploads) == 1
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert len(fake_slack.downloads(file["id"])) == 1


async def test_the_same_file_in_a_new_share_after_success_is_not_uploaded_again(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack)
    await slack.event(event)
    await thread_replies(fake_slack, event)
    again = message_event("service 9 location 4523464", files=[file])
    await slack.event(again)
    (note,) = await thread_replies(fake_slack, again)
    assert "uploaded to Altegio already" in text_of(note.args)
    assert len(fake_altegio.uploads) == 1


async def test_service_caption_in_any_order_uploads_to_the_service(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, _ = share(fake_slack, PNG, "room.png", caption="Location #4523464 SERVICE id 9")
    await slack.event(event)
    (upload,) = await fake_altegio.wait_for_requests_async(1, path="/images/service", timeout=10)
    assert upload.form == {"company_id": "4523464", "service_id": "9"}
    assert upload.files["image"].content_type == "image/png"
    (reply,) = await thread_replies(fake_slack, event)
    assert "service 9" in text_of(reply.args)


async def test_several_images_in_one_share_are_each_uploaded(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    first = fake_slack.add_file(JPEG, "one.jpg")
    second = fake_slack.add_file(PNG, "two.png")
    event = message_event(CAPTION, files=[first, second])
    await slack.event(event)
    await fake_altegio.wait_for_requests_async(2, path="/images/master", timeout=10)
    replies = await thread_replies(fake_slack, event, 2)
    assert {u.filename for u in fake_altegio.uploads} == {"one.jpg", "two.png"}
    assert [u.content for u in fake_altegio.uploads] == [JPEG, PNG]
    assert all(":white_check_mark:" in text_of(r.args) for r in replies)
    await fake_slack.wait_for("reactions.add", timeout=10)
    await asyncio.sleep(0.2)
    assert len(fake_slack.calls("reactions.add")) == 1


async def test_a_share_in_a_thread_is_answered_in_that_thread(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    event = message_event(CAPTION, files=[file], thread_ts="1700000000.000100")
    await slack.event(event)
    (reply,) = await fake_slack.wait_for("chat.postMessage", timeout=10)
    assert reply.args["thread_ts"] == "1700000000.000100"
    (reaction,) = await fake_slack.wait_for("reactions.add", timeout=10)
    assert reaction.args["timestamp"] == event["ts"]


async def test_unrelated_caption_and_plain_messages_are_left_alone(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    images_log: pytest.LogCaptureFixture,
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack, caption="Service with a smile! Staff party tonight")
    assert (await slack.event(event)).status_code == 200
    await logged(images_log, "the caption is not for the bot")
    for plain in (
        message_event("master 17 location 4523464"),  # no file: not a photo share
        message_event("edited", subtype="message_changed"),
    ):
        assert (await slack.event(plain)).status_code == 200
    assert fake_altegio.requests("/images/") == []
    assert fake_slack.downloads(file["id"]) == []
    assert fake_slack.calls("chat.postMessage") == []
    assert fake_slack.calls("reactions.add") == []
    assert not [r for r in images_log.records if "nhandled request" in r.getMessage()]


async def test_file_shared_alone_is_acknowledged_and_changes_nothing(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    response = await slack.event(file_shared_event(file["id"]))
    assert response.status_code == 200
    # The message event that follows carries the caption and does the work.
    event = message_event(CAPTION, files=[file])
    await slack.event(event)
    await thread_replies(fake_slack, event)
    assert len(fake_altegio.uploads) == 1


async def test_a_slow_download_does_not_delay_the_ack(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    fake_slack.delay(1.5, "files")
    event, _ = share(fake_slack)
    started = time.monotonic()
    response = await slack.event(event)
    assert response.status_code == 200
    assert time.monotonic() - started < 1.0
    await thread_replies(fake_slack, event)


async def test_incomplete_caption_gets_usage_in_the_thread_once(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    images_log: pytest.LogCaptureFixture,
) -> None:
    event, file = share(fake_slack, caption="master 17")
    await slack.event(event, event_id="EvUSAGE1")
    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "Which location is team member 17 in?" in shown
    assert "`service 9 location 4523464`" in shown
    await slack.event(event, event_id="EvUSAGE1", retry_num=1)
    await logged(images_log, "photo share EvUSAGE1 was handled already")
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert fake_slack.downloads(file["id"]) == []


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("master abc location 4523464", "`abc` is not a team member id"),
        ("master 17 service 9 location 4523464", "not both"),
        ("staff 17 location 12ab", "`12ab` is not a location id"),
    ],
)
async def test_malformed_captions_say_what_to_fix(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caption: str,
    expected: str,
) -> None:
    link(bot, fake_altegio)
    event, _ = share(fake_slack, caption=caption)
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert expected in text_of(reply.args)
    assert fake_altegio.requests("/images/") == []


async def test_pdf_is_refused_without_download_or_upload(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack, b"%PDF-1.7\n...", "menu.pdf")
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "`menu.pdf` was not uploaded" in shown and "JPEG and PNG" in shown and "PDF" in shown
    assert buttons(reply.args) == []  # trying again cannot help
    (reaction,) = await fake_slack.wait_for("reactions.add", timeout=10)
    assert reaction.args["name"] == FAILURE_EMOJI
    assert fake_slack.downloads(file["id"]) == []
    assert fake_altegio.requests("/images/") == []


async def test_a_30_mb_photo_is_refused_by_its_size_before_downloading(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack, JPEG, "huge.jpg", size=30 * 1024 * 1024)
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "larger (30 MB) than the 10 MB I accept" in shown
    assert "smaller copy" in shown
    assert fake_slack.downloads(file["id"]) == []
    assert fake_altegio.requests("/images/") == []


async def test_a_file_larger_than_it_claimed_is_refused_while_downloading(
    make_bot: Any, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot(max_image_bytes=4096)
    link(bot, fake_altegio)
    event, file = share(fake_slack, JPEG, size=1000)  # 10 KB of bytes behind a 1 KB label
    async with SlackSender(bot.url) as slack:
        await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert "than the 4 KB I accept" in text_of(reply.args)
    assert len(fake_slack.downloads(file["id"])) == 1
    assert fake_altegio.requests("/images/") == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "Slack calls it a JPEG image, but it holds PNG data"),
        (b"GIF89a" + bytes(500), "its contents are not a JPEG or PNG image"),
        (bytes(600), "its contents are not a JPEG or PNG image"),
    ],
)
async def test_bytes_that_are_not_what_slack_says_are_refused(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    content: bytes,
    expected: str,
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack, content, "portrait.jpg", mimetype="image/jpeg")
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert expected in text_of(reply.args)
    assert len(fake_slack.downloads(file["id"])) == 1
    assert fake_altegio.requests("/images/") == []


async def test_an_unlinked_sharer_is_asked_privately_to_log_in(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    event, file = share(fake_slack)
    await slack.event(event)
    (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10)
    assert prompt.args["user"] == USER_ID and prompt.args["channel"] == CHANNEL_ID
    assert "`portrait.jpg`" in text_of(prompt.args) and "share the photo again" in text_of(
        prompt.args
    )
    assert [b["action_id"] for b in buttons(prompt.args)] == [LOGIN_ACTION]
    assert fake_slack.downloads(file["id"]) == []
    assert fake_altegio.requests("/images/") == []
    assert fake_slack.calls("chat.postMessage") == []

    # Once linked, sharing the photo again uploads it.
    link(bot, fake_altegio)
    await slack.event(message_event(CAPTION, files=[file]))
    await fake_altegio.wait_for_requests_async(1, path="/images/master", timeout=10)


async def test_the_service_account_never_uploads_for_an_unlinked_sharer(
    make_bot: Any, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    service = fake_altegio.add_user("service@example.com")
    bot = make_bot(altegio_user_token=service.user_token)
    event, file = share(fake_slack)
    async with SlackSender(bot.url) as slack:
        await slack.event(event)
    (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10)
    assert "I need your Altegio account" in text_of(prompt.args)
    assert [b["action_id"] for b in buttons(prompt.args)] == [LOGIN_ACTION]
    assert fake_altegio.requests("/images/") == []
    assert fake_slack.downloads(file["id"]) == []


async def test_slacks_sign_in_page_instead_of_the_file_names_the_files_read_scope(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, _ = share(fake_slack, login_page=True)
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "sign-in page" in shown and "`files:read`" in shown
    assert [b["action_id"] for b in buttons(reply.args)] == [RETRY_ACTION]
    assert fake_altegio.requests("/images/") == []


async def test_a_redirect_to_another_host_gets_no_bot_token(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    event, file = share(fake_slack, redirect=True)
    await slack.event(event)
    (upload,) = await fake_altegio.wait_for_requests_async(1, path="/images/master", timeout=10)
    assert upload.files["image"].content == JPEG
    first, second = fake_slack.downloads(file["id"])
    assert first.authorization == f"Bearer {BOT_TOKEN}"
    assert second.path.startswith("/elsewhere/")
    assert second.authorization is None
    assert all(BOT_TOKEN not in value for value in second.headers.values())


async def test_altegio_down_then_try_again_uploads_it(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = link(bot, fake_altegio)
    fake_altegio.fail_always("/images/master", status=503)
    event, file = share(fake_slack)
    await slack.event(event)
    (failure,) = await thread_replies(fake_slack, event)
    assert "Altegio is not answering right now" in text_of(failure.args)
    (reaction,) = await fake_slack.wait_for("reactions.add", timeout=10)
    assert reaction.args["name"] == FAILURE_EMOJI
    (retry_button,) = buttons(failure.args)
    assert retry_button["action_id"] == RETRY_ACTION

    fake_altegio.rules.clear()  # Altegio is back
    url = fake_slack.response_url()
    message = {"type": "message", "ts": failure.response["ts"], **failure.args}
    await slack.action(
        button(RETRY_ACTION, retry_button["value"]), message=message, response_url=url
    )
    # The thread reply comes after Altegio answered, so the upload's record is complete by then.
    replies = await thread_replies(fake_slack, event, 2)
    assert "is now the image of team member 17" in text_of(replies[-1].args)
    uploads = fake_altegio.requests("/images/master")
    assert len(uploads) == 2
    assert uploads[-1].status == 200 and uploads[-1].user_token == user.user_token
    assert len(fake_altegio.uploads) == 1 and fake_altegio.uploads[0].content == JPEG
    (updated,) = await fake_slack.wait_for_response(url, timeout=10)
    assert updated["replace_original"] is True and not buttons(updated)
    await fake_slack.wait_for("reactions.add", timeout=10, name=SUCCESS_EMOJI)

    # A second click on the stale button finds the file uploaded and says so privately.
    again = fake_slack.response_url()
    await slack.action(
        button(RETRY_ACTION, retry_button["value"]), message=message, response_url=again
    )
    (notice,) = await fake_slack.wait_for_response(again, timeout=10)
    assert "uploaded to Altegio already" in text_of(notice)
    assert len(fake_altegio.uploads) == 1
    assert len(fake_slack.downloads(file["id"])) == 2


async def test_a_failed_upload_is_uploaded_when_shared_again(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    fake_altegio.fail("/images/master", status=500)
    event, file = share(fake_slack)
    await slack.event(event)
    await thread_replies(fake_slack, event)
    again = message_event(CAPTION, files=[file])
    await slack.event(again)
    (reply,) = await thread_replies(fake_slack, again)
    assert "is now the image of team member 17" in text_of(reply.args)
    assert len(fake_altegio.uploads) == 1


async def test_unknown_team_member_shows_altegios_message(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    fake_altegio.deny(4523464, status=404, message="Team member not found")
    event, _ = share(fake_slack)
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert (
        "Altegio could not find team member 17 at location 4523464 "
        "(it said: Team member not found)."
    ) in text_of(reply.args)


async def test_a_refused_session_is_forgotten_and_the_sharer_asked_to_log_in_again(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = link(bot, fake_altegio)
    fake_altegio.revoke_token(user.user_token)
    event, _ = share(fake_slack)
    await slack.event(event)
    (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10)
    assert "no longer accepts your linked session" in text_of(prompt.args)
    assert [b["action_id"] for b in buttons(prompt.args)] == [LOGIN_ACTION]
    (reply,) = await thread_replies(fake_slack, event)
    assert [b["action_id"] for b in buttons(reply.args)] == [RETRY_ACTION]
    assert bot.call(bot.runtime.store.get_account(TEAM_ID, USER_ID)) is None


async def test_a_stale_button_value_is_answered_not_crashed(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    url = fake_slack.response_url()
    await slack.action(button(RETRY_ACTION, "not json"), response_url=url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "Share the photo again" in text_of(reply)


@pytest.mark.postgres
async def test_two_processes_receiving_one_share_at_once_upload_it_once(
    make_bot: Any,
    postgres_url: str,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    images_log: pytest.LogCaptureFixture,
) -> None:
    key = generate_key()
    first = make_bot(database_url=postgres_url, bot_encryption_key=key)
    second = make_bot(database_url=postgres_url, bot_encryption_key=key)
    link(first, fake_altegio)
    fake_altegio.latency = 0.2  # both deliveries are in flight together
    event, file = share(fake_slack)
    delivery = event_callback(event, event_id="EvTWICE1")
    retried = event_callback(event, event_id="EvTWICE1", retry_num=1)
    async with SlackSender(first.url) as a, SlackSender(second.url) as b:
        responses = await asyncio.gather(a.post(delivery), b.post(retried))
    assert [r.status_code for r in responses] == [200, 200]
    await thread_replies(fake_slack, event)
    await logged(images_log, "photo share EvTWICE1 was handled already")
    assert len(fake_altegio.requests("/images/master")) == 1
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert len(fake_slack.downloads(file["id"])) == 1


@pytest.mark.postgres
async def test_two_processes_sharing_one_file_in_two_messages_upload_it_once(
    make_bot: Any, postgres_url: str, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    key = generate_key()
    bots = [make_bot(database_url=postgres_url, bot_encryption_key=key) for _ in range(2)]
    link(bots[0], fake_altegio)
    fake_altegio.latency = 0.2
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    events = [message_event(CAPTION, files=[file]) for _ in bots]
    async with SlackSender(bots[0].url) as a, SlackSender(bots[1].url) as b:
        await asyncio.gather(a.event(events[0]), b.event(events[1]))
    replies = await fake_slack.wait_for("chat.postMessage", 2, timeout=10)
    shown = sorted(text_of(r.args) for r in replies)
    assert sum("uploaded to Altegio already" in s for s in shown) == 1
    assert sum("is now the image of team member 17" in s for s in shown) == 1
    assert len(fake_altegio.requests("/images/master")) == 1


async def test_simultaneous_shares_hold_only_photo_concurrency_photos_at_once(
    make_bot: Any, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot(photo_concurrency=2)
    link(bot, fake_altegio)
    upload_seconds = 0.6
    fake_altegio.delay(upload_seconds, "/images")
    events = [share(fake_slack, name=f"p{n}.jpg")[0] for n in range(6)]
    async with SlackSender(bot.url) as slack:
        responses = await asyncio.gather(*(slack.event(e) for e in events))
    assert all(r.status_code == 200 for r in responses)
    for event in events:
        (reply,) = await thread_replies(fake_slack, event)
        assert "is now the image" in text_of(reply.args)
    uploads = sorted(r.started for r in fake_altegio.requests("/images/master"))
    assert len(uploads) == 6
    # A third photo is fetched only once an upload has finished and freed its slot.
    before_first_upload_ends = [
        d for d in fake_slack.downloads() if d.started < uploads[0] + upload_seconds
    ]
    assert len(before_first_upload_ends) == 2


async def test_an_upload_past_its_deadline_is_reported_and_can_be_tried_again(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(upload, "PHOTO_DEADLINE_SECONDS", 1.0)
    link(bot, fake_altegio)
    fake_altegio.delay(5, "/images", times=1)
    event, _ = share(fake_slack)
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert "took too long" in text_of(reply.args)
    (retry,) = buttons(reply.args)
    assert retry["action_id"] == RETRY_ACTION
    # The claim was released within the deadline, not left to its lease: Try again uploads it.
    message = {"type": "message", "ts": reply.response["ts"], **reply.args}
    await slack.action(
        button(RETRY_ACTION, retry["value"]),
        message=message,
        response_url=fake_slack.response_url(),
    )
    replies = await thread_replies(fake_slack, event, 2)
    assert "is now the image of team member 17" in text_of(replies[-1].args)
