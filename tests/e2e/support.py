"""Helpers for the end-to-end tests: send a command, read the private reply's text, link a
person to an Altegio user as a finished login would."""

from __future__ import annotations

from tests.bot_server import BotServer
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.altegio_data import FakeUser


def text_of(reply: dict) -> str:
    parts = [reply.get("text", "")]
    for block in reply.get("blocks", []):
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(str(p) for p in parts)


async def ask(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str) -> dict:
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    return reply


def save_link(
    bot: BotServer, user: FakeUser, user_id: str = USER_ID, team_id: str = TEAM_ID
) -> None:
    """Store `user_id`'s session with the fake Altegio `user`, as a finished login would."""
    bot.call(
        bot.runtime.store.save_account(
            team_id,
            user_id,
            altegio_user_id=user.id,
            name=user.name,
            login=user.login,
            user_token=user.user_token,
        )
    )


def link(
    bot: BotServer, fake_altegio: FakeAltegio, user_id: str = USER_ID, name: str = "Maria Manager"
) -> FakeUser:
    """Link `user_id` to a fresh Altegio user named `name`."""
    user = fake_altegio.add_user(f"{user_id.lower()}@example.com", name=name)
    save_link(bot, user, user_id)
    return user
