"""The audit trail, end to end: every action with an effect done through the served bot, then
read back with the real `altegio-bot audit` command; no secret ever reaches the table."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.retention import Retention, prune_once
from bot.storage import generate_key, open_store
from bot.storage.schema import audit_log
from handlers.alerts.messages import ACKNOWLEDGE, SNOOZE_1D
from handlers.store import AuditEvent
from tests.alerts.support import OPS, alerts_in, command, run_sweep
from tests.alerts.test_commands import click
from tests.bot_server import BotServer
from tests.cli.support import run
from tests.e2e.test_account import ask, link, open_login, submit
from tests.e2e.test_images import JPEG, thread_replies
from tests.fakes import BOT_TOKEN, TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import message_event

PASSWORD = "Audit-Trail-Password-5521"
STRANGER = "U0STRANGER"


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def db_bot(make_bot, database_url: str, key: str) -> BotServer:
    return make_bot(database_url=database_url, bot_encryption_key=key, license_cache_ttl=0)


def audit_cli(fake_settings: dict[str, str], url: str, key: str, cwd: Path, *args: str) -> str:
    done = run(
        ["audit", *args],
        cwd=cwd,
        settings={**fake_settings, "database_url": url, "bot_encryption_key": key},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def entries(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def brief(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["action"], entry["outcome"], entry["location_id"], entry["reason"])


async def share_photo(
    slack: SlackSender, fake_slack: FakeSlack, content: bytes, name: str, user: str = USER_ID
) -> dict[str, Any]:
    file = fake_slack.add_file(content, name, user=user)
    event = message_event("master 17 location 1001", files=[file], user=user)
    assert (await slack.event(event)).status_code == 200
    return event


async def test_every_action_is_in_the_audit_trail_without_a_secret(
    db_bot: BotServer,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    fake_settings: dict[str, str],
    database_url: str,
    key: str,
    tmp_path: Path,
) -> None:
    user = fake_altegio.add_user("maria@salon.example", PASSWORD, name="Maria Manager")
    fake_altegio.add_license(1001, days_left=20)
    async with SlackSender(db_bot.url) as slack:
        view = await open_login(slack, fake_slack)
        refused = await submit(slack, view, user.login, "not-the-password")
        assert refused.json()["response_action"] == "errors"
        await link(slack, fake_slack, user, PASSWORD)

        await command(slack, fake_slack, "watch 1001")
        await command(slack, fake_slack, "watch 9999")  # Altegio knows no such location
        assert run_sweep(db_bot).posted == 1
        (alert,) = alerts_in(fake_slack, OPS)
        await click(slack, fake_slack, alert, SNOOZE_1D)
        await click(slack, fake_slack, alert, ACKNOWLEDGE, updates=2)

        uploaded = await share_photo(slack, fake_slack, JPEG, "portrait.jpg")
        await thread_replies(fake_slack, uploaded)
        gif = await share_photo(slack, fake_slack, b"GIF89a" + bytes(500), "fake.jpg")
        await thread_replies(fake_slack, gif)
        await share_photo(slack, fake_slack, JPEG, "stranger.jpg", user=STRANGER)
        await fake_slack.wait_for("chat.postEphemeral", timeout=10, user=STRANGER)

        await command(slack, fake_slack, "unwatch 1001")
        await ask(slack, fake_slack, "logout")

    shown = await asyncio.to_thread(audit_cli, fake_settings, database_url, key, tmp_path, "--json")
    log = entries(shown)
    assert all(e["team_id"] == TEAM_ID for e in log)
    assert [brief(e) for e in log] == [
        ("link", "refused", None, "wrong login or password"),
        ("link", "ok", None, None),
        ("watch", "ok", 1001, None),
        ("watch", "refused", 9999, "no such location"),
        ("snooze", "ok", 1001, None),
        ("acknowledge", "ok", 1001, None),
        ("photo", "ok", 1001, log[6]["reason"]),
        ("photo", "refused", 1001, log[7]["reason"]),
        ("photo", "refused", None, "sharer not linked"),
        ("unwatch", "ok", 1001, None),
        ("unlink", "ok", None, "logout"),
    ]
    assert log[1]["target"] == f"altegio user {user.id}"
    assert log[2]["channel_id"] == OPS and log[2]["user_id"] == USER_ID
    assert log[4]["target"].startswith("until ")
    photo = log[6]
    assert photo["target"] == "master 17" and photo["file_id"] and photo["channel_id"]
    assert photo["reason"].startswith("image group ")
    assert "not a JPEG or PNG" in log[7]["reason"]
    assert log[8]["user_id"] == STRANGER
    assert all(e["at"] for e in log)

    # Never a secret, nor the Altegio login, anywhere in the table.
    store = await open_store(database_url, key)
    try:
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(audit_log))).all()
    finally:
        await store.close()
    dump = repr(rows)
    assert len(rows) == len(log)
    for secret in (PASSWORD, "not-the-password", user.user_token, BOT_TOKEN, user.login):
        assert secret not in dump
        assert secret not in shown


async def test_the_audit_command_filters_by_time_and_workspace_and_prints_a_table(
    fake_settings: dict[str, str], tmp_path: Path
) -> None:
    url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    store = await open_store(url, key)
    now = store.now()
    try:
        for team, ago, action in (("T1", 30, "watch"), ("T1", 1, "snooze"), ("T2", 2, "link")):
            await store.record_audit(
                AuditEvent(
                    team,
                    "U1",
                    action,
                    channel_id="C1",
                    location_id=4523464,
                    at=now - timedelta(days=ago),
                )
            )
        await store.record_audit(
            AuditEvent(
                "T1",
                "U2",
                "photo",
                channel_id="C1",
                location_id=4523464,
                target="master 17",
                file_id="F1",
                ok=False,
                reason="too large",
            )
        )
    finally:
        await store.close()

    def actions(*args: str) -> list[str]:
        out = audit_cli(fake_settings, url, key, tmp_path, "--json", *args)
        return [e["action"] for e in entries(out)]

    everything, recent, t1_recent = await asyncio.gather(
        asyncio.to_thread(actions),
        asyncio.to_thread(actions, "--since", "7d"),
        asyncio.to_thread(actions, "--since", "7d", "--workspace", "T1"),
    )
    assert everything == ["watch", "link", "snooze", "photo"]
    assert recent == ["link", "snooze", "photo"]
    assert t1_recent == ["snooze", "photo"]

    table = await asyncio.to_thread(audit_cli, fake_settings, url, key, tmp_path, "--since", "1h")
    header, row = table.splitlines()
    assert header.split() == [
        "time",
        "(UTC)",
        "workspace",
        "user",
        "channel",
        "action",
        "target",
        "outcome",
    ]
    assert "photo" in row and "location 4523464, master 17, file F1" in row
    assert row.endswith("refused: too large")

    bad = run(
        ["audit", "--since", "soon"],
        cwd=tmp_path,
        settings={**fake_settings, "database_url": url, "bot_encryption_key": key},
    )
    assert bad.returncode == 2 and "not a span of time" in bad.stderr


async def test_the_audit_trail_is_pruned_after_its_retention(tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    store = await open_store(url, key)
    try:
        now = store.now()
        for days in (400, 100, 1):
            await store.record_audit(AuditEvent("T1", "U1", "watch", at=now - timedelta(days=days)))
        pruned = await prune_once(store, Retention(audit=timedelta(days=365)))
        assert pruned is not None and pruned["audit"] == 1
        assert len(await store.list_audit()) == 2
        await prune_once(store, Retention(audit=timedelta(days=30)))
        assert [e.at.date() for e in await store.list_audit()] == [(now - timedelta(days=1)).date()]
    finally:
        await store.close()
