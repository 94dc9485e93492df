"""A 401 in Altegio's generic or localised words ends a linked session only when Altegio still
accepts the bot's partner token, through the served bot and the fake Altegio: otherwise every
session stays, the person is told the bot's own access is broken, the operator reads it once in
the log and on /healthz, and a check Altegio cannot answer leaves the session alone too."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from handlers.audit import UNLINK
from handlers.errors import SessionEnded
from tests.bot_server import BotServer
from tests.e2e.support import save_link
from tests.e2e.test_account import account_of, ask, text_of
from tests.fakes import PARTNER_TOKEN, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.altegio_data import FakeUser

OTHER_USER = "U0OTHER"
CHECK = "/validation/validate_phone/"
PARTNER_SENTENCE = "Altegio refused this bot's partner token"
WORDS = ["Unauthorized", "Доступ запрещён"]


async def _license(
    slack: SlackSender, fake_slack: FakeSlack, text: str, user_id: str = USER_ID
) -> dict[str, Any]:
    url = fake_slack.response_url()
    response = await slack.command("/license", text, response_url=url, user_id=user_id)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    return reply


def _health(bot: BotServer) -> httpx.Response:
    return httpx.get(f"{bot.base_url}/healthz", timeout=10)


async def _health_once(bot: BotServer, status: int) -> httpx.Response:
    """/healthz once it answers `status` (its database part is reused for 2 s)."""
    for _ in range(40):
        answer = await asyncio.to_thread(_health, bot)
        if answer.status_code == status:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz stayed {answer.status_code}: {answer.text}")


def _unlinks(bot: BotServer) -> list[Any]:
    rows = bot.call(bot.runtime.store.list_audit(team_id=TEAM_ID))
    return [r for r in rows if r.action == UNLINK]


@pytest.fixture
def two_linked(bot: BotServer, fake_altegio: FakeAltegio) -> tuple[FakeUser, FakeUser]:
    fake_altegio.license_requires_user = True
    for location in (4523464, 4523465, 4523466):
        fake_altegio.add_license(location, plan="Business")
    maria = fake_altegio.add_user("manager@example.com", "pw-123456", name="Maria Manager")
    olga = fake_altegio.add_user("owner@example.com", "pw-654321", name="Olga Owner")
    save_link(bot, maria)
    save_link(bot, olga, OTHER_USER)
    return maria, olga


@pytest.mark.parametrize("words", WORDS)
async def test_a_refused_session_in_any_words_is_forgotten_when_the_partner_token_is_good(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    two_linked: tuple[FakeUser, FakeUser],
    words: str,
) -> None:
    maria, _ = two_linked
    fake_altegio.unauthorized_message = words
    fake_altegio.revoke_token(maria.user_token)

    reply = await _license(slack, fake_slack, "4523464")
    assert SessionEnded.message in text_of(reply)
    # Checked with the partner token alone before the session was forgotten.
    (check,) = fake_altegio.requests(CHECK)
    assert check.partner_token == PARTNER_TOKEN and check.user_token is None
    assert account_of(bot) is None
    (unlink,) = _unlinks(bot)
    assert unlink.user_id == USER_ID and unlink.reason == "Altegio refused the session"
    assert "not linked" in text_of(await ask(slack, fake_slack, "whoami"))
    # Only the refused session: the other person's stays, and /healthz is content.
    assert account_of(bot, OTHER_USER) is not None
    assert (await _health_once(bot, 200)).json() == {
        "ok": True,
        "status": "ok",
        "database": "ok",
    }


# None: the fake's own words, which name the partner token (reported the same way).
@pytest.mark.parametrize("words", [*WORDS, None])
async def test_a_refused_partner_token_keeps_every_session_and_is_reported_to_the_operator(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    two_linked: tuple[FakeUser, FakeUser],
    caplog: pytest.LogCaptureFixture,
    words: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_altegio.unauthorized_message = words
    fake_altegio.partner_refused = True

    for user_id in (USER_ID, OTHER_USER):
        shown = text_of(await _license(slack, fake_slack, "4523464", user_id=user_id))
        assert PARTNER_SENTENCE in shown
        assert SessionEnded.message not in shown and "/altegio login" not in shown
    assert account_of(bot) is not None and account_of(bot, OTHER_USER) is not None
    assert _unlinks(bot) == []
    assert "Maria Manager" in text_of(await ask(slack, fake_slack, "whoami"))

    answer = await _health_once(bot, 503)
    assert answer.json() == {
        "ok": False,
        "status": "degraded",
        "database": "ok",
        "altegio_partner_token": "refused",
    }
    logged = [r for r in caplog.records if r.name.startswith("altegio")]
    errors = [r.getMessage() for r in logged if r.levelno >= logging.ERROR]
    assert errors == [
        "Altegio refused the partner token (ALTEGIO_PARTNER_TOKEN) on a partner-only check: "
        "the bot cannot reach Altegio until it is replaced; linked sessions are kept"
    ]
    assert PARTNER_TOKEN not in caplog.text

    # Altegio takes the token again: the next call that succeeds puts /healthz back to ok.
    fake_altegio.partner_refused = False
    assert "Business" in text_of(await _license(slack, fake_slack, "4523465"))
    assert (await _health_once(bot, 200)).json()["status"] == "ok"
    assert "Altegio accepts the partner token again" in caplog.text


async def test_a_burst_of_refusals_makes_one_check(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    two_linked: tuple[FakeUser, FakeUser],
) -> None:
    fake_altegio.unauthorized_message = "Unauthorized"
    fake_altegio.partner_refused = True
    ids = "4523464 4523465 4523466"
    replies = await asyncio.gather(
        *(_license(slack, fake_slack, ids, user_id=u) for u in (USER_ID, OTHER_USER) * 3)
    )
    assert all(PARTNER_SENTENCE in text_of(r) for r in replies)
    assert len(fake_altegio.requests("/license/")) >= 6
    assert len(fake_altegio.requests(CHECK)) == 1
    assert account_of(bot) is not None and account_of(bot, OTHER_USER) is not None


async def test_a_check_that_times_out_keeps_the_session(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    two_linked: tuple[FakeUser, FakeUser],
) -> None:
    maria, _ = two_linked
    fake_altegio.unauthorized_message = "Unauthorized"
    fake_altegio.revoke_token(maria.user_token)
    fake_altegio.delay(5, CHECK)  # longer than the bot's 2 s Altegio timeout

    shown = text_of(await _license(slack, fake_slack, "4523464"))
    assert "Altegio is not answering right now" in shown
    assert SessionEnded.message not in shown
    assert account_of(bot) is not None and _unlinks(bot) == []
    assert (await _health_once(bot, 200)).json()["status"] == "ok"
    # Once Altegio answers the check, the refused session does end.
    fake_altegio.rules.clear()
    assert SessionEnded.message in text_of(await _license(slack, fake_slack, "4523464"))
    assert account_of(bot) is None
