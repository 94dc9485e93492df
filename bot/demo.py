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
    """Every setting the demo needs, given outright so the environment cannot override it."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-demo",  # noqa: S106 - placeholders, never sent
        slack_signing_secret="demo-signing-secret",  # noqa: S106
        slack_app_token=None,
        altegio_partner_token=PARTNER_TOKEN,
        altegio_user_token=None,
        altegio_api_url=altegio_api_url,
        altegio_web_url="https://app.alteg.io",
        altegio_sandbox=False,  # the console runs the sandbox itself, below
        database_url=f"sqlite:///{workdir / 'demo.db'}",
        bot_encryption_key=generate_key(),
        redis_url=None,
        log_level="INFO",
        log_format="text",
        alert_days=(30, 7, 1),
        altegio_rate_limit=5.0,
        altegio_rate_limit_per_minute=None,
        altegio_timeout=10.0,
        license_cache_ttl=300.0,
        phone_cache_ttl=86400.0,
        not_found_cache_ttl=30.0,
        max_image_bytes=10 * 1024 * 1024,
        metrics_textfile=None,
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
