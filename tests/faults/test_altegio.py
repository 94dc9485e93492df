"""Altegio misbehaving under the real served bot: what the user sees, what was (not) sent.

Every case goes through signed commands to the bot on uvicorn, the real AltegioClient and the
fake Altegio's fault rules. GETs are retried (at most 3 times) on 5xx, 429, timeouts and cut
connections; what is still failing after that becomes one plain, private sentence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.bot_fixtures import MakeBot
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.faults.support import ask, no_public_messages, text_of

pytestmark = pytest.mark.faults

DOWN = "Altegio is not answering right now. Try again in a few minutes."
BUSY = "Altegio is busy right now (too many requests). Try again in a minute."


@dataclass(frozen=True)
class Lookup:
    command: str
    text: str
    path: str  # what the fake Altegio sees, for its fault rules and request log
    answered: str  # in the reply when Altegio answered
    prepare: Callable[[FakeAltegio], object]

    def __str__(self) -> str:
        return self.command


LICENSE = Lookup(
    "/license",
    "4523464",
    "/license/4523464",
    "Location 4523464",
    lambda fake: fake.add_license(4523464, plan="Business"),
)
PHONE = Lookup(
    "/phone",
    "+44 20 7946 0958",
    "/validation/validate_phone/",
    "Altegio accepts this number",
    lambda fake: None,
)
BOTH = pytest.mark.parametrize("lookup", [LICENSE, PHONE], ids=str)


async def _ask(slack: SlackSender, fake_slack: FakeSlack, lookup: Lookup) -> str:
    return text_of(await ask(slack, fake_slack, lookup.command, lookup.text))


def _calls(fake_altegio: FakeAltegio, lookup: Lookup) -> int:
    return len(fake_altegio.requests(lookup.path))


@pytest.mark.parametrize(
    ("lookup", "status", "times"),
    [(LICENSE, 500, 1), (LICENSE, 502, 1), (LICENSE, 503, 1), (LICENSE, 504, 1), (PHONE, 503, 2)],
    ids=str,
)
async def test_transient_5xx_is_retried_and_the_user_gets_the_answer(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    lookup: Lookup,
    status: int,
    times: int,
) -> None:
    lookup.prepare(fake_altegio)
    fake_altegio.fail(lookup.path, status=status, times=times)
    assert lookup.answered in await _ask(slack, fake_slack, lookup)
    assert _calls(fake_altegio, lookup) == times + 1
    assert no_public_messages(fake_slack)


@pytest.mark.parametrize(("lookup", "status"), [(LICENSE, 503), (PHONE, 500)], ids=str)
async def test_persistent_5xx_gives_a_clear_reply_and_the_next_command_is_answered(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    lookup: Lookup,
    status: int,
) -> None:
    lookup.prepare(fake_altegio)
    rule = fake_altegio.fail_always(lookup.path, status=status)
    assert DOWN in await _ask(slack, fake_slack, lookup)
    assert _calls(fake_altegio, lookup) == 4  # the first try and 3 retries, then it gives up
    assert rule.hits == 4
    fake_altegio.rules.clear()
    assert lookup.answered in await _ask(slack, fake_slack, lookup)  # errors are not cached
    assert no_public_messages(fake_slack)


@BOTH
async def test_one_slow_answer_times_out_and_the_retry_answers(
    make_bot: MakeBot, fake_slack: FakeSlack, fake_altegio: FakeAltegio, lookup: Lookup
) -> None:
    bot = make_bot(altegio_timeout=0.5)
    lookup.prepare(fake_altegio)
    fake_altegio.delay(1.2, lookup.path, times=1)
    async with SlackSender(bot.url) as slack:
        assert lookup.answered in await _ask(slack, fake_slack, lookup)
    assert _calls(fake_altegio, lookup) == 2


async def test_altegio_slower_than_altegio_timeout_every_time_gives_a_clear_reply(
    make_bot: MakeBot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot(altegio_timeout=0.3)
    lookup = LICENSE
    lookup.prepare(fake_altegio)
    fake_altegio.delay(0.8, lookup.path)
    async with SlackSender(bot.url) as slack:
        url = fake_slack.response_url()
        started = time.monotonic()
        response = await slack.command(lookup.command, lookup.text, response_url=url)
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0  # the ack never waits for Altegio
        (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    assert DOWN in text_of(reply)
    assert _calls(fake_altegio, lookup) == 4


async def test_429_with_retry_after_is_waited_out_then_answered(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    lookup = LICENSE
    lookup.prepare(fake_altegio)
    fake_altegio.fail(lookup.path, status=429, retry_after=1, times=1)
    assert lookup.answered in await _ask(slack, fake_slack, lookup)
    first, second = fake_altegio.requests(lookup.path)
    assert second.started - first.started >= 0.9  # Retry-After honoured, not a quick retry


async def test_429_without_retry_after_backs_off_then_answers(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    lookup = PHONE
    fake_altegio.fail(lookup.path, status=429, times=1)
    assert lookup.answered in await _ask(slack, fake_slack, lookup)
    assert _calls(fake_altegio, lookup) == 2


async def test_persistent_429_says_altegio_is_busy(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    LICENSE.prepare(fake_altegio)
    fake_altegio.fail_always(LICENSE.path, status=429, retry_after=0.3)
    assert BUSY in await _ask(slack, fake_slack, LICENSE)
    assert _calls(fake_altegio, LICENSE) == 4


@pytest.mark.parametrize(
    ("lookup", "body"),
    [
        (LICENSE, "html"),
        (LICENSE, "empty"),
        (LICENSE, "garbage"),
        (LICENSE, "truncated"),
        (LICENSE, "wrong-shape"),
        (PHONE, "html"),
        (PHONE, "truncated"),
    ],
    ids=str,
)
async def test_a_200_that_is_not_altegio_json_is_not_taken_as_an_answer(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    lookup: Lookup,
    body: str,
) -> None:
    lookup.prepare(fake_altegio)
    wrong_shape = b'{"success": true, "data": {"active": "perhaps"}}'
    raw: str | bytes = wrong_shape if body == "wrong-shape" else body
    fake_altegio.fail(lookup.path, status=200, body=raw, times=1)
    shown = await _ask(slack, fake_slack, lookup)
    assert DOWN in shown and lookup.answered not in shown
    assert _calls(fake_altegio, lookup) == 1  # a 200 is an answer: it is not asked again
    # Nothing of the bad answer was cached: the next ask reaches Altegio and succeeds.
    assert lookup.answered in await _ask(slack, fake_slack, lookup)


@pytest.mark.parametrize("body", ["html", "truncated"])
async def test_a_proxy_error_page_is_retried_like_any_5xx(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio, body: str
) -> None:
    LICENSE.prepare(fake_altegio)
    fake_altegio.fail(LICENSE.path, status=502, body=body, times=1)
    assert LICENSE.answered in await _ask(slack, fake_slack, LICENSE)
    assert _calls(fake_altegio, LICENSE) == 2


@BOTH
async def test_a_dropped_connection_is_retried(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio, lookup: Lookup
) -> None:
    lookup.prepare(fake_altegio)
    fake_altegio.drop(lookup.path, times=1)
    assert lookup.answered in await _ask(slack, fake_slack, lookup)
    assert _calls(fake_altegio, lookup) == 2


async def test_one_failing_location_among_several_is_named_on_its_own_card(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Start")
    fake_altegio.add_license(1002, plan="Pro")
    fake_altegio.fail_always("/license/1002", status=403, message="No access to this location")
    shown = text_of(await ask(slack, fake_slack, "/license", "1001 1002"))
    assert "Location 1001" in shown and "Start" in shown
    assert "*Location 1002* · :x: Altegio refused access: No access to this location." in shown


async def test_altegio_refusing_the_partner_token_tells_the_user_who_must_act(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    LICENSE.prepare(fake_altegio)
    fake_altegio.fail_always(LICENSE.path, status=401, message="Partner token is invalid")
    shown = await _ask(slack, fake_slack, LICENSE)
    assert "refused this bot's partner token" in shown
    assert "test-partner-token" not in shown
    assert _calls(fake_altegio, LICENSE) == 1  # a refusal is not retried
