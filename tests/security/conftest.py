"""Log capture as the running bot writes it: `altegio-bot` configures bot.logging at start-up,
so these tests do the same (at DEBUG) and read that handler's own output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import logging as bot_logging
from tests.fakes import PARTNER_TOKEN, SIGNING_SECRET
from tests.fakes.slack_workspace import BOT_TOKEN

# What `altegio-bot` registers with the redactor at start-up: the settings' secrets.
SETTINGS_SECRETS = [BOT_TOKEN, SIGNING_SECRET, PARTNER_TOKEN]


@pytest.fixture
def bot_log() -> Iterator[io.StringIO]:
    """Everything the bot's configured log handler writes while the test runs, at DEBUG."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    chatty = ("httpx", "httpcore", "aiosqlite", "asyncio", "slack_bolt", "slack_sdk")
    saved_levels = {name: logging.getLogger(name).level for name in chatty}
    bot_logging.configure("DEBUG", SETTINGS_SECRETS)
    (handler,) = root.handlers
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        for installed in list(root.handlers):
            root.removeHandler(installed)
        for old in saved_handlers:
            root.addHandler(old)
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
