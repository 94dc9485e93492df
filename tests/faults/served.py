"""One served bot per test module, for suites with many short cases.

Starting and stopping uvicorn costs ~0.4 s a test; the fakes are session-wide with stable URLs,
so one bot per module can stay pointed at them. Each test still gets an empty Altegio cache
(cleared like the fakes are reset) and its own fake state; tests that need other settings use
`make_bot`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot_server import BotServer, bot_settings
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for

SHARED_SETTINGS = {
    "altegio_timeout": 2,
    # Above 5/s no per-minute quota applies: a module's worth of retries must not queue.
    "altegio_rate_limit": 20,
}


@pytest.fixture(scope="module")
def served_bot(
    fake_altegio_server: FakeAltegio,
    fake_slack_server: FakeSlack,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotServer]:
    database = tmp_path_factory.mktemp("served") / "bot.db"
    values = {
        **settings_for(fake_altegio_server, fake_slack_server),
        **SHARED_SETTINGS,
        "database_url": f"sqlite:///{database}",
    }
    with BotServer(bot_settings(**values)) as bot:
        yield bot


@pytest.fixture
def bot(served_bot: BotServer, fake_altegio: FakeAltegio, fake_slack: FakeSlack) -> BotServer:
    """The module's bot, with nothing cached from earlier tests."""
    assert served_bot.runtime is not None
    altegio = served_bot.runtime.altegio

    async def clear() -> None:
        altegio.clear_cache()

    served_bot.call(clear())
    return served_bot
