"""Helpers for the alert tests: run a sweep on a served bot, watch through /license, read alerts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.settings import handler_config
from bot.slack_client import SWEEP_RETRIES, web_client
from sweep.alerts import SweepSummary, sweep
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.fixtures import settings_for

OPS = "C0OPS"
SALES = "C0SALES"
REPO = Path(__file__).resolve().parents[2]


def run_sweep(
    bot: BotServer,
    *,
    now: datetime | None = None,
    today: date | None = None,
    owner: str = "test-sweeper",
    **kwargs: Any,
) -> SweepSummary:
    """One sweep with the bot's own store and Altegio client, and the CLI's Slack client."""
    runtime = bot.runtime
    assert runtime is not None

    async def go() -> SweepSummary:
        return await sweep(
            runtime.altegio,
            runtime.store,
            web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES),
            handler_config(runtime.settings),
            owner=owner,
            now=now,
            today=today,
            **kwargs,
        )

    return bot.call(go(), timeout=90)


def text_of(message: dict[str, Any]) -> str:
    """Every piece of text in a message or a reply, blocks included."""
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        for element in block.get("elements", []):
            if isinstance(element, dict):
                text = element.get("text")
                parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


async def command(
    slack: SlackSender, fake_slack: FakeSlack, text: str, *, channel: str = OPS
) -> str:
    """`/license <text>` in `channel`; the private reply's text."""
    url = fake_slack.response_url()
    response = await slack.command("/license", text, response_url=url, channel_id=channel)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    assert reply.get("response_type") == "ephemeral"
    return text_of(reply)


def alerts_in(fake_slack: FakeSlack, channel: str | None = None) -> list[dict[str, Any]]:
    """Messages the bot posted (kept current by chat.update), optionally in one channel."""
    return [m for m in fake_slack.messages if channel is None or m["channel"] == channel]


def button_of(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message.get("blocks") or []:
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button in the message")


def cli_env(
    database_url: str, key: str | None, altegio: FakeAltegio, slack: FakeSlack, **extra
) -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    settings = {
        **settings_for(altegio, slack),
        "database_url": database_url,
        "altegio_rate_limit": "50",
        **extra,
    }
    if key is not None:
        settings["bot_encryption_key"] = key
    env.update({k.upper(): str(v) for k, v in settings.items()})
    env["PYTHONPATH"] = str(REPO)
    return env


def start_cli(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "bot.cli", "alerts", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
