"""A linked Altegio session belongs to one Slack user in one workspace: nobody else acts with
it, and logging out or Altegio refusing it really deletes it (the row is gone from the table,
read beside the bot)."""

from __future__ import annotations

from typing import Any

from handlers.account.messages import LOGOUT_ACTION
from handlers.errors import NotLinked, SessionEnded
from handlers.images.messages import RETRY_ACTION, RetryRequest
from tests.bot_server import BotServer
from tests.e2e.support import save_link
from tests.fakes import CHANNEL_ID, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button
from tests.faults.support import text_of
from tests.security.dumps import account_rows

OTHER_USER = "U0OTHER"
OTHER_TEAM = "T0ELSEWHERE"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"


async def _reply(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str, **kw: Any):
    url = fake_slack.response_url()
    assert (await slack.command(command, text, response_url=url, **kw)).status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    return reply


async def test_the_same_user_id_in_another_workspace_gets_no_session(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464)
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    shown = text_of(await _reply(slack, fake_slack, "/license", "4523464", team_id=OTHER_TEAM))
    assert NotLinked.message in shown
    assert [r.user_token for r in fake_altegio.requests("/license/")] == [None]
    shown = text_of(await _reply(slack, fake_slack, "/altegio", "logout", team_id=OTHER_TEAM))
    assert "nothing to forget" in shown
    assert account_rows(bot.settings.database_url, TEAM_ID, USER_ID) == 1


async def test_another_users_logout_click_leaves_my_session_alone(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    save_link(bot, fake_altegio.add_user("manager@example.com", "pw-123456"))
    url = fake_slack.response_url()
    response = await slack.action(button(LOGOUT_ACTION), user_id=OTHER_USER, response_url=url)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "nothing to forget" in text_of(reply)
    assert account_rows(bot.settings.database_url, TEAM_ID, USER_ID) == 1
    # My own click does forget it: the row is gone, not just hidden.
    mine = fake_slack.response_url()
    await slack.action(button(LOGOUT_ACTION), response_url=mine)
    await fake_slack.wait_for_response(mine, timeout=10)
    assert account_rows(bot.settings.database_url, TEAM_ID, USER_ID) == 0


async def test_a_refused_session_is_deleted_not_kept(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464)
    maria = fake_altegio.add_user("manager@example.com", "pw-123456")
    save_link(bot, maria)
    old_token = maria.user_token
    fake_altegio.change_password(maria.login, "a-new-password-1")
    reply = await _reply(slack, fake_slack, "/license", "4523464")
    assert SessionEnded.message in text_of(reply)
    assert account_rows(bot.settings.database_url, TEAM_ID, USER_ID) == 0
    # The next command does not try the dead token again.
    await _reply(slack, fake_slack, "/license", "4523464")
    assert [r.user_token for r in fake_altegio.requests("/license/")] == [old_token, None]


async def test_try_again_on_someone_elses_photo_runs_on_the_clickers_account_only(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    maria = fake_altegio.add_user("manager@example.com", "pw-123456", name="Maria Manager")
    save_link(bot, maria)
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    retry = RetryRequest(
        file_id=file["id"],
        channel_id=CHANNEL_ID,
        ts="1700000000.000100",
        thread_ts="1700000000.000100",
        entity="master",
        entity_id=17,
        location_id=4523464,
    )
    # The other user, not linked: asked to link their own account; nothing is uploaded.
    url = fake_slack.response_url()
    await slack.action(button(RETRY_ACTION, retry.encode()), user_id=OTHER_USER, response_url=url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert NotLinked.message in text_of(reply)
    assert fake_altegio.requests("/images/") == []
    # Once linked, their click uploads with their token, never Maria's.
    olga = fake_altegio.add_user("olga@example.com", "pw-654321", name="Olga Owner")
    save_link(bot, olga, OTHER_USER)
    await slack.action(
        button(RETRY_ACTION, retry.encode()),
        user_id=OTHER_USER,
        response_url=fake_slack.response_url(),
    )
    (upload,) = await fake_altegio.wait_for_requests_async(1, path="/images/master", timeout=10)
    assert upload.user_token == olga.user_token
