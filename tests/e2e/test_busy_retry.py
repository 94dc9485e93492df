"""Try again on a busy answer: when Altegio's budget is taken, /license and /phone say "Altegio
is busy, try again in about N s" with a Try again button; pressing it runs the same command
again for whoever pressed it, and the answer replaces the busy one. The button's value is
checked again on the click, like anything typed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from handlers.errors import RETRY_COMMAND_ACTION
from tests.bot_fixtures import MakeBot
from tests.e2e.support import text_of
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button

BUSY = "Altegio is busy, try again in about"
SATURATING = 999  # a location whose lookup Altegio answers with 429, Retry-After: 5


@dataclass(frozen=True)
class Lookup:
    command: str
    text: str
    answered: str  # in the answer once Altegio has room again

    def __str__(self) -> str:
        return self.command


LOOKUPS = [
    Lookup("/license", "4523464", "Location 4523464"),
    Lookup("/phone", "+44 20 7946 0958", "+442079460958"),
]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
    ]


async def _ask(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str, **kw: Any):
    url = fake_slack.response_url()
    assert (await slack.command(command, text, response_url=url, **kw)).status_code == 200
    return url


async def _click(slack: SlackSender, fake_slack: FakeSlack, value: Any, **kw: Any) -> dict:
    url = fake_slack.response_url()
    response = await slack.action(button(RETRY_COMMAND_ACTION, value), response_url=url, **kw)
    assert response.status_code == 200
    (answer,) = await fake_slack.wait_for_response(url, timeout=20)
    return answer


async def _saturate(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio, caplog: Any
) -> str:
    """Someone else's lookup gets a 429 asking for 5 s: the bot holds all of its requests to
    Altegio for that long. Returns that lookup's response URL (answered once the 5 s are over)."""
    fake_altegio.add_license(SATURATING)
    fake_altegio.fail(f"/license/{SATURATING}", status=429, retry_after=5, times=1)
    url = await _ask(slack, fake_slack, "/license", str(SATURATING), user_id="U0OTHER")
    # The bot logs Altegio's 429 and pauses its budget in the same step: once the line is
    # there, every later request waits.
    for _ in range(400):
        if any("-> 429" in r.getMessage() for r in caplog.records):
            return url
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never saw Altegio's 429")


@pytest.mark.parametrize("lookup", LOOKUPS, ids=str)
async def test_a_busy_answer_has_try_again_which_answers_in_its_place(
    lookup: Lookup,
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="altegio.api")
    bot = make_bot(interactive_max_wait=1.5)
    fake_altegio.add_license(4523464, plan="Business")
    async with SlackSender(bot.url) as slack:
        other = await _saturate(slack, fake_slack, fake_altegio, caplog)
        url = await _ask(slack, fake_slack, lookup.command, lookup.text)
        (busy,) = await fake_slack.wait_for_response(url, timeout=20)
        assert BUSY in text_of(busy) and busy["response_type"] == "ephemeral"
        (again,) = buttons(busy)
        assert again["action_id"] == RETRY_COMMAND_ACTION and again["text"]["text"] == "Try again"
        assert again["value"] == f"{lookup.command} {lookup.text}"
        asked = len(fake_altegio.requests())

        # The other lookup is answered once its 5 s are over: Altegio has room again.
        await fake_slack.wait_for_response(other, timeout=20)
        answer = await _click(slack, fake_slack, again["value"])
        assert answer["replace_original"] is True
        assert lookup.answered in text_of(answer) and BUSY not in text_of(answer)
        assert not buttons(answer)
        assert len(fake_altegio.requests()) > asked


async def test_a_card_of_several_locations_altegio_was_too_busy_for_has_one_try_again(
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="altegio.api")
    bot = make_bot(interactive_max_wait=1.5)
    for location_id in (4523464, 4523465):
        fake_altegio.add_license(location_id, plan="Business")
    async with SlackSender(bot.url) as slack:
        other = await _saturate(slack, fake_slack, fake_altegio, caplog)
        url = await _ask(slack, fake_slack, "/license", "4523464 4523465")
        (card,) = await fake_slack.wait_for_response(url, timeout=20)
        assert BUSY in text_of(card)
        (again,) = buttons(card)  # one button for the whole card
        assert again["value"] == "/license 4523464 4523465"

        await fake_slack.wait_for_response(other, timeout=20)
        answer = await _click(slack, fake_slack, again["value"])
        assert answer["replace_original"] is True and not buttons(answer)
        shown = text_of(answer)
        assert "Location 4523464" in shown and "Location 4523465" in shown
        assert BUSY not in shown


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("/altegio logout", "This button no longer works"),  # not a command that retries
        ("/license", "Usage"),  # the text is checked again: none is help
        ("/license 12ab", "`12ab` is not a location id"),
        ("/phone call me", "call me"),
        ("", "This button no longer works"),
        ("/license " + "1" * 2100, "This button no longer works"),  # longer than Slack allows
    ],
)
async def test_a_try_again_value_is_checked_like_typed_input(
    value: str,
    said: str,
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
) -> None:
    bot = make_bot()
    async with SlackSender(bot.url) as slack:
        answer = await _click(slack, fake_slack, value)
    assert said in text_of(answer)
    assert answer["response_type"] == "ephemeral"
    assert fake_altegio.requests() == []
