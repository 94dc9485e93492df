"""Who acts on whose Altegio account, through the served bot with the operator's service account
(ALTEGIO_USER_TOKEN) configured: a photo upload (a write) runs only on the sharer's own linked
session; guests, people from other organisations and people Slack will not describe never get
the service account, for reads either; every answer says whose account acted.
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers.blocks import LOGIN_ACTION
from tests.bot_fixtures import MakeBot
from tests.bot_server import BotServer
from tests.e2e.support import link, text_of
from tests.fakes import CHANNEL_ID, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.block_limits import message_problems
from tests.fakes.signing import button, message_event

SERVICE_TOKEN = "usr-service-0a1b2c3d4e5f60718293a4b5"
SHARED_NOTE = "Looked up with this workspace's shared Altegio account."
OUTSIDER_REFUSAL = "Guests and people from other organisations can't use this workspace's shared"
UNIDENTIFIED_REFUSAL = "Slack could not tell me who you are just now"
CAPTION = "master 17 location 4523464"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"

GUEST = "U0GUEST"
SINGLE_CHANNEL_GUEST = "U0SCGUEST"
STRANGER = "U0STRANGER"  # a member of another organisation's workspace, in a shared channel
OUTSIDERS = {
    GUEST: {"is_restricted": True},
    SINGLE_CHANNEL_GUEST: {"is_ultra_restricted": True},
    STRANGER: {"team_id": "T0OTHERORG"},
}


@pytest.fixture
def service_bot(make_bot: MakeBot, fake_slack: FakeSlack, fake_altegio: FakeAltegio) -> BotServer:
    """The bot with the operator's service account, Altegio knowing it and one licence."""
    fake_altegio.add_user("service@example.com", "n/a", name="Ops", user_token=SERVICE_TOKEN)
    fake_altegio.add_license(4523464, plan="Business")
    fake_slack.add_user(USER_ID, "maria")
    for user_id, kind in OUTSIDERS.items():
        fake_slack.add_user(user_id, user_id.lower(), **kind)
    return make_bot(altegio_user_token=SERVICE_TOKEN)


async def ask(slack: SlackSender, fake_slack: FakeSlack, text: str, user: str) -> dict[str, Any]:
    url = fake_slack.response_url()
    response = await slack.command("/license", text, response_url=url, user_id=user)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    return reply


async def share(slack: SlackSender, fake_slack: FakeSlack, user: str) -> dict[str, Any]:
    file = fake_slack.add_file(JPEG, "portrait.jpg", user=user)
    event = message_event(CAPTION, files=[file], user=user)
    assert (await slack.event(event)).status_code == 200
    return event


def on_service_account(fake_altegio: FakeAltegio) -> list[str]:
    return [r.path for r in fake_altegio.requests() if r.user_token == SERVICE_TOKEN]


def audit_rows(bot: BotServer, action: str) -> list[Any]:
    return [e for e in bot.call(bot.runtime.store.list_audit()) if e.action == action]


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
    ]


async def test_an_unlinked_member_sharing_a_photo_is_asked_to_link_and_nothing_is_uploaded(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    async with SlackSender(service_bot.url) as slack:
        await share(slack, fake_slack, USER_ID)
        (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10, user=USER_ID)
    assert "I need your Altegio account" in text_of(prompt.args)
    assert buttons(prompt.args) == [LOGIN_ACTION]
    assert fake_altegio.requests("/images/") == []
    assert fake_altegio.uploads == []
    assert fake_slack.calls("chat.postMessage") == []  # nothing said in the channel
    (refused,) = audit_rows(service_bot, "photo")
    assert (refused.user_id, refused.ok, refused.reason) == (USER_ID, False, "sharer not linked")


async def test_try_again_pressed_by_someone_unlinked_uploads_nothing(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """A Try again button left in a thread is a write too: an unlinked member pressing it is
    asked to link, and the service account uploads nothing."""
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    value = (
        f'{{"f":"{file["id"]}","c":"{CHANNEL_ID}","ts":"1.1","th":"1.1",'
        '"e":"master","i":17,"l":4523464}'
    )
    url = fake_slack.response_url()
    async with SlackSender(service_bot.url) as slack:
        await slack.action(button("images_retry", value), response_url=url, user_id="U0OTHER")
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "This needs your Altegio account" in text_of(reply)
    assert buttons(reply) == [LOGIN_ACTION]
    assert fake_altegio.requests("/images/") == []
    assert fake_slack.downloads(file["id"]) == []


async def test_a_linked_member_uploads_on_their_own_token_and_the_reply_names_their_account(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    maria = link(service_bot, fake_altegio, USER_ID, "Maria Manager")
    async with SlackSender(service_bot.url) as slack:
        event = await share(slack, fake_slack, USER_ID)
        (reply,) = await fake_slack.wait_for(
            "chat.postMessage", timeout=10, channel=CHANNEL_ID, thread_ts=event["ts"]
        )
    (upload,) = fake_altegio.requests("/images/master")
    assert upload.user_token == maria.user_token
    assert [u.user_token for u in fake_altegio.uploads] == [maria.user_token]
    assert on_service_account(fake_altegio) == []
    shown = text_of(reply.args)
    assert "is now the image of team member 17" in shown
    assert f"Uploaded with <@{USER_ID}>'s own Altegio account (Maria Manager)." in shown
    assert maria.user_token not in shown and SERVICE_TOKEN not in shown


async def test_a_members_lookup_on_the_shared_account_says_so_and_their_own_does_not(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    async with SlackSender(service_bot.url) as slack:
        shared = await ask(slack, fake_slack, "4523464", USER_ID)
        assert fake_altegio.requests("/license/")[-1].user_token == SERVICE_TOKEN
        watched = await ask(slack, fake_slack, "watch 4523464", USER_ID)
        watching = await ask(slack, fake_slack, "watching", USER_ID)
        maria = link(service_bot, fake_altegio, USER_ID, "Maria Manager")
        own = await ask(slack, fake_slack, "4523464", USER_ID)
    assert "Location 4523464" in text_of(shared) and SHARED_NOTE in text_of(shared)
    assert shared["blocks"][-1]["type"] == "context"
    assert "watches location 4523464" in text_of(watched) and SHARED_NOTE in text_of(watched)
    assert "4523464" in text_of(watching) and SHARED_NOTE in text_of(watching)
    assert "Location 4523464" in text_of(own) and SHARED_NOTE not in text_of(own)
    assert fake_altegio.requests("/license/")[-1].user_token == maria.user_token


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
async def test_guests_and_strangers_never_act_through_the_service_account(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio, outsider: str
) -> None:
    async with SlackSender(service_bot.url) as slack:
        refused = await ask(slack, fake_slack, "4523464", outsider)
        watch = await ask(slack, fake_slack, "watch 4523464", outsider)
        await share(slack, fake_slack, outsider)
        (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10, user=outsider)
    for reply in (refused, watch):
        assert OUTSIDER_REFUSAL in text_of(reply)
        assert buttons(reply) == [LOGIN_ACTION]  # they may link their own account
        assert "Location 4523464" not in text_of(reply)
    assert "I need your Altegio account" in text_of(prompt.args)
    assert on_service_account(fake_altegio) == []
    assert fake_altegio.requests("/license/") == [] and fake_altegio.requests("/images/") == []
    assert service_bot.call(service_bot.runtime.store.list_watches(TEAM_ID)) == []


@pytest.mark.parametrize("outsider", [GUEST, STRANGER])
async def test_a_guest_or_stranger_who_linked_their_own_account_acts_on_it(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio, outsider: str
) -> None:
    own = link(service_bot, fake_altegio, outsider, "Gil Guest")
    async with SlackSender(service_bot.url) as slack:
        reply = await ask(slack, fake_slack, "4523464", outsider)
        event = await share(slack, fake_slack, outsider)
        (uploaded,) = await fake_slack.wait_for(
            "chat.postMessage", timeout=10, channel=CHANNEL_ID, thread_ts=event["ts"]
        )
    assert "Location 4523464" in text_of(reply) and SHARED_NOTE not in text_of(reply)
    assert f"<@{outsider}>'s own Altegio account (Gil Guest)" in text_of(uploaded.args)
    assert {r.user_token for r in fake_altegio.requests()} == {own.user_token}


async def test_when_slack_will_not_say_who_someone_is_the_service_account_is_refused(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_slack.fail("users.info", error="fatal_error", times=None)
    async with SlackSender(service_bot.url) as slack:
        reply = await ask(slack, fake_slack, "4523464", USER_ID)
    shown = text_of(reply)
    assert UNIDENTIFIED_REFUSAL in shown and "shared Altegio account" in shown
    assert buttons(reply) == [LOGIN_ACTION]
    assert fake_altegio.requests("/license/") == []
    assert on_service_account(fake_altegio) == []

    # Slack answers again: the member is served, and told by whose account.
    fake_slack.rules.clear()
    async with SlackSender(service_bot.url) as slack:
        reply = await ask(slack, fake_slack, "4523464", USER_ID)
    assert SHARED_NOTE in text_of(reply)
    assert [r.user_token for r in fake_altegio.requests("/license/")] == [SERVICE_TOKEN]


async def test_the_shared_account_note_comes_last_on_a_ten_location_card_within_slacks_limits(
    service_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    options = [{"id": n, "title": f"Option {n} " + "x" * 60} for n in range(90)]
    ids = [4523464 + n for n in range(10)]
    for location_id in ids[1:]:
        fake_altegio.add_license(location_id, plan="P" * 200, options=options)
    async with SlackSender(service_bot.url) as slack:
        reply = await ask(slack, fake_slack, " ".join(map(str, ids)), USER_ID)
    assert len(reply["blocks"]) <= 50
    assert reply["blocks"][-1]["elements"][0]["text"] == SHARED_NOTE
    assert message_problems(reply) == []
