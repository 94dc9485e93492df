"""pytest fixtures for the real bot: served by uvicorn on 127.0.0.1, aimed at the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.bot_server import BotServer, bot_settings
from tests.fakes import SlackSender

MakeBot = Callable[..., BotServer]


@pytest.fixture
def make_bot(fake_settings: dict[str, str], tmp_path: Path) -> Iterator[MakeBot]:
    """`make_bot(**settings)` starts a bot on the fakes and a fresh SQLite file; stopped after."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> BotServer:
            values: dict[str, Any] = {
                **fake_settings,
                "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
                # Tests should not wait for real back-off: one quick retry is enough to see it.
                "altegio_timeout": 2,
                **overrides,
            }
            return stack.enter_context(BotServer(bot_settings(**values)))

        yield start


@pytest.fixture
def bot(make_bot: MakeBot) -> BotServer:
    return make_bot()


@pytest.fixture
async def slack(bot: BotServer) -> AsyncIterator[SlackSender]:
    """Signed requests to the running bot, as Slack would send them."""
    async with SlackSender(bot.url) as sender:
        yield sender
