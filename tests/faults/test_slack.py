"""Slack failing under the bot: the replies it posts to response_url (and, as features add them,
its Web API calls) survive 429s, 5xx and cut connections, and the bot goes on serving.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest

from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.faults.support import ask, assert_plain_private, text_of

pytestmark = pytest.mark.faults

DOWN = "Altegio is not answering right now. Try again in a few minutes."


def _posts_to(fake_slack: FakeSlack, url: str) -> list:
    path = urlsplit(url).path
    return [r for r in fake_slack.requests(path) if r.path == path]


async def _command(
    slack: SlackSender, fake_slack: FakeSlack, text: str = "4523464"
) -> tuple[str, list]:
    url = fake_slack.response_url()
    response = await slack.command("/license", text, response_url=url)
    assert response.status_code == 200
    return url, await fake_slack.wait_for_response(url, timeout=15)


@pytest.mark.parametrize("status", [500, 503])
async def test_reply_survives_a_slack_5xx_on_response_url(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio, status: int
) -> None:
    fake_altegio.add_license(4523464)
    fake_slack.fail("response_url", status=status, times=1)
    url, (reply,) = await _command(slack, fake_slack)
    assert "Location 4523464" in assert_plain_private(reply)
    assert [r.status for r in _posts_to(fake_slack, url)] == [status, 200]


async def test_reply_waits_out_a_slack_429_on_response_url(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464)
    fake_slack.rate_limit("response_url", times=1, retry_after=1)
    url, (reply,) = await _command(slack, fake_slack)
    assert "Location 4523464" in text_of(reply)
    refused, accepted = _posts_to(fake_slack, url)
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.started - refused.started >= 0.9  # Retry-After honoured


async def test_reply_survives_a_dropped_connection_to_response_url(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464)
    fake_slack.drop("response_url", times=1)
    url, (reply,) = await _command(slack, fake_slack)
    assert "Location 4523464" in text_of(reply)
    assert len(_posts_to(fake_slack, url)) == 2


async def test_error_reply_also_survives_a_slack_5xx(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_slack.fail("response_url", status=500, times=1)
    _, (reply,) = await _command(slack, fake_slack, "999")  # an error: no such location
    assert "Altegio has no location 999." in assert_plain_private(reply)


async def test_slack_refusing_every_reply_is_logged_bounded_and_the_bot_goes_on(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_altegio.add_license(4523464)
    rule = fake_slack.fail("response_url", status=500, times=None)
    url = fake_slack.response_url()
    with caplog.at_level(logging.WARNING):
        response = await slack.command("/license", "4523464", response_url=url)
        assert response.status_code == 200
        for _ in range(100):
            await asyncio.sleep(0.1)
            if any("reply" in r.getMessage() and "500" in r.getMessage() for r in caplog.records):
                break
    attempts = _posts_to(fake_slack, url)
    assert 2 <= len(attempts) <= 4, "a few retries, not a loop"
    assert all(r.status == 500 for r in attempts)
    assert any("500" in r.getMessage() for r in caplog.records if r.name.startswith("altegio"))
    rule.times = rule.hits  # Slack recovers
    assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
