"""A distributed bot (SLACK_CLIENT_ID, no SLACK_BOT_TOKEN) installed in several workspaces."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.storage import generate_key
from tests.bot_server import BotServer
from tests.fakes import CLIENT_ID, CLIENT_SECRET, FakeSlack, SlackSender

OAUTH_SETTINGS = {
    "slack_bot_token": "",
    "slack_client_id": CLIENT_ID,
    "slack_client_secret": CLIENT_SECRET,
}


def install_link(page: str) -> str:
    """The "Add to Slack" link of the install page."""
    match = re.search(r'<a class="button" href="([^"]+)"', page)
    assert match, page
    return html.unescape(match.group(1))


async def install(bot: BotServer, fake_slack: FakeSlack, workspace: str) -> httpx.Response:
    """Click "Add to Slack" in a browser of its own, approve in `workspace`, land back on the
    bot: returns the page the installer ends on."""
    fake_slack.oauth_redirect_url = f"{bot.base_url}/slack/oauth_redirect"
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(f"{bot.base_url}/slack/install", params={"team": workspace})
        assert page.status_code == 200, page.text
        consent = await browser.get(install_link(page.text))
        assert consent.status_code == 302
        return await browser.get(consent.headers["location"])


@pytest.fixture
def make_distributed_bot(
    make_bot: Callable[..., BotServer], tmp_path: Path
) -> Callable[..., BotServer]:
    def start(**overrides: Any) -> BotServer:
        return make_bot(**{**OAUTH_SETTINGS, **overrides})

    return start


@pytest.fixture
def workspaces(fake_slack: FakeSlack) -> list[str]:
    """Two workspaces that may install the app, and an Enterprise Grid org installing it
    org-wide."""
    fake_slack.add_workspace("T0ONE", "Salon One")
    fake_slack.add_workspace("T0TWO", "Clinic Two")
    fake_slack.add_workspace(None, "Studio Org", enterprise_id="E0ORG", org_wide=True)
    return ["T0ONE", "T0TWO", "E0ORG"]


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return generate_key()


@pytest.fixture
def shared_database(database_url: str, encryption_key: str) -> dict[str, str]:
    """Settings for bots sharing one database (each test runs on SQLite and PostgreSQL)."""
    return {"database_url": database_url, "bot_encryption_key": encryption_key}


@pytest.fixture
async def installed(
    make_distributed_bot: Callable[..., BotServer],
    fake_slack: FakeSlack,
    workspaces: list[str],
    shared_database: dict[str, str],
) -> AsyncIterator[tuple[BotServer, SlackSender]]:
    """The bot, installed in all three through its own install pages."""
    # Licences fresh on every fetch: the tests read which token each fetch carried.
    bot = make_distributed_bot(**shared_database, license_cache_ttl=0)
    for workspace in workspaces:
        done = await install(bot, fake_slack, workspace)
        assert done.status_code == 200, done.text
    async with SlackSender(bot.url) as sender:
        yield bot, sender
