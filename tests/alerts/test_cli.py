"""`altegio-bot alerts` as cron and a clock process would run it: exit codes, intervals, signals."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from bot.storage import generate_key
from bot.sweeper import parse_interval
from tests.alerts.support import OPS, cli_env, command, start_cli, text_of
from tests.fakes import FakeAltegio, FakeSlack, SlackSender


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("1d", 86400),
        ("90", 90),
        ("1.5h", 5400),
        (" 2H ", 7200),
    ],
)
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1w", "-5m", "0s", "0.5s", "1 hour", "5m30s"])
def test_bad_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


async def test_one_sweep_exits_0_with_its_summary(
    tmp_path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'bot.db'}", generate_key(), fake_altegio, fake_slack)
    process = start_cli(env)
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, err
    assert "alert sweep: 0 watches, 0 locations" in err


async def test_an_unreachable_database_exits_2_with_one_paragraph(
    fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    env = cli_env("postgresql://nobody@127.0.0.1:9/none", generate_key(), fake_altegio, fake_slack)
    process = start_cli(env)
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 2
    assert "Traceback" not in err and "127.0.0.1" in err


async def test_missing_settings_and_a_bad_interval_exit_2(
    tmp_path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'bot.db'}", generate_key(), fake_altegio, fake_slack)
    del env["SLACK_BOT_TOKEN"]
    process = start_cli(env)
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 2 and "SLACK_BOT_TOKEN is not set" in err
    process = start_cli(env, "--every", "5 minutes")
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 2 and "not an interval" in err


async def test_every_keeps_sweeping_until_sigterm(
    tmp_path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'bot.db'}", generate_key(), fake_altegio, fake_slack)
    process = start_cli(env, "--every", "1s")
    try:
        # Two sweeps logged, however long start-up takes on a busy machine; then SIGTERM.
        seen = await asyncio.to_thread(_read_until, process, "alert sweep: 0 watches", 2)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, rest = await asyncio.to_thread(process.communicate, timeout=30)
        err = seen + rest
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert err.count("alert sweep: 0 watches") >= 2
    assert "alert sweeps stopped" in err


async def test_watch_in_slack_then_altegio_bot_alerts_posts_one_alert_naming_the_lapsing_one(
    make_bot, tmp_path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    bot = make_bot()  # on tmp_path/bot.db, as the command below
    fake_altegio.add_license(4523464, plan="Business", days_left=5)
    fake_altegio.add_license(1234567, plan="Start", days_left=200)
    async with SlackSender(bot.url) as slack:
        await command(slack, fake_slack, "watch 4523464")
        await command(slack, fake_slack, "watch 1234567")
    env = cli_env(bot.settings.database_url, None, fake_altegio, fake_slack)
    for posted in (1, 0):
        process = start_cli(env)
        _, err = await asyncio.to_thread(process.communicate, timeout=60)
        assert process.returncode == 0, err
        assert f"posted {posted}," in err
    (alert,) = fake_slack.messages
    assert alert["channel"] == OPS
    assert "Location 4523464" in text_of(alert) and "1234567" not in text_of(alert)


def _read_until(process: subprocess.Popen, text: str, count: int, timeout: float = 60) -> str:
    """Standard error, line by line, until `text` has appeared `count` times (or it ends)."""
    assert process.stderr is not None
    read: list[str] = []
    deadline = time.monotonic() + timeout
    while sum(text in line for line in read) < count and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        read.append(line)
    return "".join(read)
