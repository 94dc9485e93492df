"""A sweep killed mid-way (SIGKILL, no clean-up) and run again: nothing doubled, nothing lost.

The alert that was being posted when the process died keeps its claim until the lease runs
out (so a second sweeper cannot post it twice meanwhile); the next sweep posts everything
else, and the first sweep after the lease posts that one. Each alert reaches its channel once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.runtime import make_altegio_client
from bot.settings import handler_config, load_settings
from bot.slack_client import SWEEP_RETRIES, web_client
from bot.storage import generate_key, open_store
from sweep.alerts import ALERT_LEASE_SECONDS, sweep
from tests.fakes import TEAM_ID, FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "C0OPS"
LOCATIONS = (8101, 8102, 8103, 8104)


def _environment(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({k.upper(): v for k, v in settings.items()})
    env["PYTHONPATH"] = str(REPO)
    return env


def _alerts(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "alerts"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _posted(fake_slack: FakeSlack) -> list[str]:
    """The location each accepted alert was about, one entry per message in the channel."""
    found = []
    for message in fake_slack.messages:
        assert message["channel"] == CHANNEL
        text = str(message.get("text", ""))
        found += [str(i) for i in LOCATIONS if str(i) in text]
    return found


async def test_a_sweep_killed_mid_post_and_run_again_posts_each_alert_exactly_once(
    tmp_path: Path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    key = generate_key()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    values = {
        **settings_for(fake_altegio, fake_slack),
        "database_url": url,
        "bot_encryption_key": key,
        "altegio_rate_limit": "50",
    }
    store = await open_store(url, key)
    for location_id in LOCATIONS:
        fake_altegio.add_license(location_id, days_left=3)
        await store.add_watch(TEAM_ID, CHANNEL, location_id, "U0USER")
    await store.close()

    # The first post hangs (and Slack then refuses it): the process is killed while it waits.
    fake_slack.fail("chat.postMessage", status=500, delay=5, times=1)
    first = _alerts(_environment(values))
    try:
        deadline = time.monotonic() + 30
        while not fake_slack.requests("/api/chat.postMessage"):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the sweep never posted"
            await asyncio.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)
    assert first.returncode == -signal.SIGKILL
    assert _posted(fake_slack) == []

    # Run again at once: what the dead sweeper still holds (the alert it was posting, and the
    # buckets of locations it had leased) waits for its leases; the rest is posted.
    again = _alerts(_environment(values))
    _, err = await asyncio.to_thread(again.communicate, timeout=60)
    assert again.returncode == 0, err
    after_rerun = _posted(fake_slack)
    assert len(after_rerun) == len(set(after_rerun)) < len(LOCATIONS), err
    held = set(map(str, LOCATIONS)) - set(after_rerun)

    # And again: nothing is posted twice.
    third = _alerts(_environment(values))
    _, err = await asyncio.to_thread(third.communicate, timeout=60)
    assert third.returncode == 0 and _posted(fake_slack) == after_rerun, err

    # Once the leases have run out, the next sweep posts what was held, and only that.
    later = datetime.now(UTC) + timedelta(seconds=ALERT_LEASE_SECONDS + 60)
    settings = load_settings(env_file=None, **values)
    store = await open_store(url, key, clock=lambda: later)
    altegio = make_altegio_client(settings, limiter=_no_limit())
    try:
        summary = await sweep(
            altegio,
            store,
            web_client(settings, retries=SWEEP_RETRIES),
            handler_config(settings),
            owner="after-the-lease",
            now=later,
        )
    finally:
        await altegio.aclose()
        await store.close()
    final = _posted(fake_slack)
    assert sorted(final) == sorted(map(str, LOCATIONS)), summary
    assert set(final) - set(after_rerun) == held


def _no_limit():  # type: ignore[no-untyped-def]
    from api.ratelimit import NoLimit

    return NoLimit()
