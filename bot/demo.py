"""`altegio-bot demo`: the console against the built-in sandbox, with settings of its own.

Nothing is read from the environment or a .env file that could point it elsewhere: the
database is a fresh SQLite file in a temporary directory, Altegio is the sandbox in this
process, and Slack is the console. Logs go to a file in the same directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot import logging as bot_logging
from bot.console import HELP, VERBS, run_console
from bot.sandbox import LOGIN, PARTNER_TOKEN, PASSWORD, start_sandbox
from bot.settings import Settings
from bot.storage.crypto import generate_key

BANNER = """\
altegio-bot demo: the console against a built-in sandbox Altegio (sample data, no network).
  Locations: 4523464 lapses within days · 4523465 lapsed · 4523466 inactive
             4523467 unlimited staff · 4523468 many options
  Altegio login for `/altegio login`: {login}  password: {password}
  Logs: {log}
{help}
{verbs}"""


def demo_settings(workdir: Path, altegio_api_url: str) -> Settings:
    """Every setting given outright (the defaults, then the demo's own), so that nothing in the
    environment or a .env file is read, let alone breaks it."""
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
        if not field.is_required()
    }
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{
            **defaults,
            "slack_bot_token": "xoxb-demo",  # placeholders, never sent
            "slack_signing_secret": "demo-signing-secret",
            "altegio_partner_token": PARTNER_TOKEN,
            "altegio_api_url": altegio_api_url,
            "altegio_sandbox": False,  # the demo runs the sandbox itself
            "database_url": f"sqlite:///{workdir / 'demo.db'}",
            "bot_encryption_key": generate_key(),
        },
    )


async def run_demo(lines: object = None) -> None:
    with tempfile.TemporaryDirectory(prefix="altegio-bot-demo-") as tmp:
        workdir = Path(tmp)
        log_path = workdir / "demo.log"
        bot_logging.configure("INFO", path=str(log_path))
        sandbox = await start_sandbox()
        try:
            settings = demo_settings(workdir, sandbox.base_url)
            banner = BANNER.format(
                login=LOGIN, password=PASSWORD, log=log_path, help=HELP, verbs=VERBS
            )
            await run_console(settings, lines, banner=banner)
        finally:
            await sandbox.stop()
