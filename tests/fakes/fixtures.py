"""pytest fixtures for the fakes: one server of each per test session, wiped before each test.

Starting a server costs a few milliseconds, but a session-wide one keeps its URL, so a bot
started once can stay pointed at it. Tests that need a private fake (or want to stop one)
use `with FakeAltegio() as fake:` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.altegio import PARTNER_TOKEN, FakeAltegio
from tests.fakes.signing import SIGNING_SECRET
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_workspace import BOT_TOKEN


def settings_for(altegio: FakeAltegio, slack: FakeSlack) -> dict[str, str]:
    """Settings values (lower-case names, for `load_settings(**values)`) aimed at the fakes."""
    return {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "altegio_partner_token": PARTNER_TOKEN,
        "altegio_api_url": altegio.base_url,
    }


@pytest.fixture(scope="session")
def fake_altegio_server() -> Iterator[FakeAltegio]:
    with FakeAltegio() as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_altegio(fake_altegio_server: FakeAltegio) -> Iterator[FakeAltegio]:
    """The fake Altegio, empty: no licences, users, faults or recorded requests."""
    fake_altegio_server.reset()
    yield fake_altegio_server
    fake_altegio_server.reset()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlack) -> Iterator[FakeSlack]:
    """The fake Slack Web API, empty, accepting BOT_TOKEN."""
    fake_slack_server.reset()
    yield fake_slack_server
    fake_slack_server.reset()


@pytest.fixture
def fake_settings(fake_altegio: FakeAltegio, fake_slack: FakeSlack) -> dict[str, str]:
    """`settings_for(fake_altegio, fake_slack)`; upper-case the names for an environment."""
    return settings_for(fake_altegio, fake_slack)
