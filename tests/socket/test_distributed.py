"""`altegio-bot socket` for a distributed app (SLACK_CLIENT_ID and SECRET, SLACK_APP_TOKEN):
two workspaces install it through the install pages it serves on PORT, and a command from each,
arriving over the one socket, is answered with that workspace's own bot token."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.storage import generate_key
from tests.fakes import CLIENT_ID, CLIENT_SECRET, FakeAltegio, FakeSlack
from tests.fakes.signing import slash_command
from tests.fakes.slack import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode
from tests.faults.support import text_of
from tests.socket.test_socket_mode import SocketBot, _form
from tests.tenancy.conftest import install

WORKSPACES = {"T0ONE": "Salon One", "T0TWO": "Clinic Two"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as page:  # noqa: S310 - 127.0.0.1
                if page.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        fake_slack.socket_mode_url = fake.url
        try:
            yield fake
        finally:
            fake_slack.socket_mode_url = None


@pytest.fixture
def distributed_socket_bot(
    fake_settings: dict[str, str],
    fake_slack: FakeSlack,
    socket_mode: FakeSocketMode,
    tmp_path: Path,
) -> Iterator[SimpleNamespace]:
    for team, name in WORKSPACES.items():
        fake_slack.add_workspace(team, name)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PYTHONWARNINGS": "always::ResourceWarning",
        **{k.upper(): v for k, v in fake_settings.items()},
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "PORT": str(port),
        "ALTEGIO_TIMEOUT": "5",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BOT_ENCRYPTION_KEY": generate_key(),
        "SOCKET_PING_INTERVAL": "1",
    }
    bot = SocketBot(env, tmp_path)
    try:
        socket_mode.wait_for_connections(1, timeout=30)
        base_url = f"http://127.0.0.1:{port}"
        _serving(f"{base_url}/slack/install")
        yield SimpleNamespace(process=bot, base_url=base_url)
    finally:
        code, log = bot.stop()
        assert code == 0, log
        for bad in ("Traceback", "Unclosed", "unclosed", "Task was destroyed"):
            assert bad not in log, log


def _send_command(
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    team: str,
    command: str,
    text: str,
    **kw: Any,
) -> tuple[str, str]:
    url = fake_slack.response_url()
    signed = slash_command(command, text, team_id=team, response_url=url, **kw)
    return socket_mode.send("slash_commands", _form(signed)), url


async def test_two_workspaces_install_through_the_pages_on_port_and_each_is_answered_with_its_token(
    distributed_socket_bot: SimpleNamespace,
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
) -> None:
    # Installed through the pages served on PORT beside the socket, each in its own browser.
    for team, name in WORKSPACES.items():
        done = await install(distributed_socket_bot, fake_slack, team)
        assert done.status_code == 200, done.text
        assert f"Altegio is installed in <strong>{name}</strong>" in done.text
    assert len(fake_slack.calls("oauth.v2.access", ok=True)) == 2
    tokens = {team: fake_slack.token_of(team) for team in WORKSPACES}
    assert len(set(tokens.values())) == 2

    for team in WORKSPACES:
        # /altegio login opens the login form through the Web API: with this workspace's token.
        trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
        envelope, _ = _send_command(
            socket_mode, fake_slack, team, "/altegio", "login", trigger_id=trigger
        )
        socket_mode.wait_for_ack(envelope)
        (opened,) = fake_slack.wait_for_sync("views.open", trigger_id=trigger, timeout=10)
        assert opened.ok and opened.token == tokens[team] and opened.team == team

        # /phone is answered on its response_url, for this workspace's member.
        envelope, url = _send_command(socket_mode, fake_slack, team, "/phone", "+44 20 7946 0958")
        socket_mode.wait_for_ack(envelope)
        (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
        assert "Altegio accepts this number" in text_of(reply)

    # A workspace that never installed the app gets nothing done with anyone's token.
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    envelope, _ = _send_command(
        socket_mode, fake_slack, "T0NEVER", "/altegio", "login", trigger_id=trigger
    )
    socket_mode.wait_for_ack(envelope)
    await asyncio.sleep(1)  # the form would have been opened by now
    assert fake_slack.calls("views.open", trigger_id=trigger) == []
