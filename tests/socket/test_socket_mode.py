"""`altegio-bot socket`, the real process, against a fake Socket Mode server on 127.0.0.1.

The fake Web API hands out the fake server's ws:// URL from `apps.connections.open`; the test
sends envelopes as Slack does and watches the acknowledgements, the replies (response_url, Web
API) and the uploads. Pings every second (SOCKET_PING_INTERVAL=1), so a dead connection is
noticed within seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from bot.storage import generate_key, open_store
from handlers.blocks import LOGIN_ACTION
from tests.cli.support import free_port
from tests.cli.test_observability import sample
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack
from tests.fakes.signing import (
    block_actions,
    button,
    event_callback,
    message_event,
    slash_command,
    text_inputs,
    view_submission,
)
from tests.fakes.slack import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode
from tests.faults.support import text_of

CAPTION = "master 17 location 4523464"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 40 + b"\xff\xd9"
PASSWORD = "Correct-Horse-7731-only-once"


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("altegio-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _form(signed: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    """What Socket Mode carries as the payload of a slash command: the form's fields."""
    return dict(parse_qsl(signed[0].decode()))


def _interactive(signed: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    return json.loads(_form(signed)["payload"])


def _event(signed: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    return json.loads(signed[0])


class SocketBot:
    """The `altegio-bot socket` process; its stderr goes to a file read after it stops."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        port = env.get("METRICS_PORT")  # where it serves /metrics, when set
        self.metrics_url = f"http://127.0.0.1:{port}/metrics" if port else ""
        self.log = cwd / "socket.log"
        self._stderr = self.log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            [*_cli(), "socket"], cwd=cwd, env=env, stdout=self._stderr, stderr=self._stderr
        )

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, then wait: (exit code, what it logged)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._stderr.close()
        return code, self.log.read_text()


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        fake_slack.socket_mode_url = fake.url
        try:
            yield fake
        finally:
            fake_slack.socket_mode_url = None


@pytest.fixture
def service_user(fake_altegio: FakeAltegio) -> Any:
    return fake_altegio.add_user("service@example.com")


@pytest.fixture
def sharer(fake_altegio: FakeAltegio) -> Any:
    """The Altegio account of the person who shares photos: uploads run on their own session."""
    return fake_altegio.add_user("sharer@example.com", name="Sam Sharer")


async def _link(database_url: str, key: str, user: Any) -> None:
    store = await open_store(database_url, key)
    try:
        await store.save_account(
            TEAM_ID,
            USER_ID,
            altegio_user_id=user.id,
            name=user.name,
            login=user.login,
            user_token=user.user_token,
        )
    finally:
        await store.close()


@pytest.fixture
def socket_bot(
    fake_settings: dict[str, str],
    socket_mode: FakeSocketMode,
    service_user: Any,
    sharer: Any,
    tmp_path: Path,
) -> Iterator[SocketBot]:
    database_url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    asyncio.run(_link(database_url, key, sharer))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        # aiohttp reports a session left open as a ResourceWarning: show every one.
        "PYTHONWARNINGS": "always::ResourceWarning",
        **{k.upper(): v for k, v in fake_settings.items()},
        "SLACK_APP_TOKEN": APP_TOKEN,
        "ALTEGIO_USER_TOKEN": service_user.user_token,
        "ALTEGIO_TIMEOUT": "5",
        "DATABASE_URL": database_url,
        "BOT_ENCRYPTION_KEY": key,
        "SOCKET_PING_INTERVAL": "1",
        "METRICS_PORT": str(free_port()),
    }
    bot = SocketBot(env, tmp_path)
    try:
        socket_mode.wait_for_connections(1, timeout=30)
        yield bot
    finally:
        code, log = bot.stop()
        assert code == 0, log
        for bad in ("Traceback", "Unclosed", "unclosed", "Task was destroyed"):
            assert bad not in log, log


def _command(
    socket_mode: FakeSocketMode, fake_slack: FakeSlack, command: str, text: str, **kw: Any
) -> tuple[str, str]:
    url = fake_slack.response_url()
    envelope = socket_mode.send(
        "slash_commands", _form(slash_command(command, text, response_url=url, **kw))
    )
    return envelope, url


def acks_counted(bot: SocketBot, kind: str) -> float:
    """The acknowledgements of `kind` counted so far, once the one just sent is among them."""
    deadline = time.monotonic() + 10
    while True:
        try:
            text = httpx.get(bot.metrics_url, timeout=2).text
        except httpx.TransportError:
            text = ""
        count = sample(text, "altegio_bot_ack_seconds_count", kind=kind) or 0
        if count or time.monotonic() > deadline:
            assert sample(text, "altegio_bot_requests_total", kind=kind) == count
            return count
        time.sleep(0.05)


def _acked_once(socket_mode: FakeSocketMode, envelope_id: str, settle: float = 0.3) -> None:
    socket_mode.wait_for_ack(envelope_id)
    time.sleep(settle)  # a second acknowledgement would have come by now
    assert len(socket_mode.acks_for(envelope_id)) == 1


def test_commands_buttons_forms_and_photo_shares_are_answered_each_acknowledged_once(
    socket_bot: SocketBot,
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    sharer: Any,
) -> None:
    (opened,) = fake_slack.calls("apps.connections.open")
    assert opened.token == APP_TOKEN and opened.ok

    # A command: acknowledged, then answered on its response_url.
    fake_altegio.add_license(4523464, plan="Business")
    envelope, url = _command(socket_mode, fake_slack, "/license", "4523464")
    _acked_once(socket_mode, envelope)
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
    assert "Location 4523464" in text_of(reply)
    # Its acknowledgement is counted as `serve` counts one (METRICS_PORT).
    assert acks_counted(socket_bot, "/license") == 1

    # A button: the login button opens the login form with the click's trigger_id.
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    envelope = socket_mode.send(
        "interactive", _interactive(block_actions(button(LOGIN_ACTION), trigger_id=trigger))
    )
    _acked_once(socket_mode, envelope)
    (call,) = fake_slack.wait_for_sync("views.open", trigger_id=trigger, timeout=10)
    view = call.args["view"]

    # A form: a wrong password keeps it open with the error, in the acknowledgement itself.
    user = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    submission = view_submission(
        view["callback_id"],
        text_inputs({"login": user.login, "password": "not-the-password"}),
        private_metadata=view["private_metadata"],
    )
    envelope = socket_mode.send("interactive", _interactive(submission))
    _acked_once(socket_mode, envelope)
    ack = socket_mode.acks_for(envelope)[0]
    assert ack["payload"]["response_action"] == "errors", ack

    # A photo share: uploaded to Altegio, answered in the thread.
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    envelope = socket_mode.send(
        "events_api", _event(event_callback(message_event(CAPTION, files=[file])))
    )
    _acked_once(socket_mode, envelope)
    (upload,) = fake_altegio.wait_for_requests(1, path="/images/master", timeout=10)
    assert upload.user_token == sharer.user_token  # the sharer's own session, never the service's
    fake_slack.wait_for_sync("reactions.add", timeout=10)


def test_slacks_retried_envelope_is_acknowledged_and_processed_once(
    socket_bot: SocketBot,
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
) -> None:
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    delivery = _event(event_callback(message_event(CAPTION, files=[file])))
    first = socket_mode.send("events_api", delivery)
    again = socket_mode.send("events_api", delivery, retry_attempt=1, retry_reason="timeout")
    _acked_once(socket_mode, first)
    _acked_once(socket_mode, again)
    fake_altegio.wait_for_requests(1, path="/images/master", timeout=10)
    fake_slack.wait_for_sync("reactions.add", timeout=10)
    time.sleep(1)
    assert len(fake_altegio.requests("/images/master")) == 1


@pytest.mark.parametrize("failure", ["dropped", "silent"])
def test_a_dropped_or_silent_connection_is_replaced_and_the_bot_answers_again(
    socket_bot: SocketBot,
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    failure: str,
) -> None:
    if failure == "dropped":
        socket_mode.drop()
    else:
        socket_mode.go_silent()
    socket_mode.wait_for_connections(2, timeout=30)
    time.sleep(0.5)  # the new connection's hello is read
    assert len(fake_slack.calls("apps.connections.open")) >= 2
    envelope, url = _command(socket_mode, fake_slack, "/phone", "+44 20 7946 0958")
    _acked_once(socket_mode, envelope)
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
    assert "Altegio accepts this number" in text_of(reply)


def test_sigterm_finishes_acknowledged_work_closes_everything_and_exits_0(
    socket_bot: SocketBot,
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
) -> None:
    fake_altegio.add_license(4523464, plan="Business")
    # A photo downloaded through the images' client, so that it has a client to close.
    file = fake_slack.add_file(JPEG, "portrait.jpg")
    socket_mode.send("events_api", _event(event_callback(message_event(CAPTION, files=[file]))))
    fake_altegio.wait_for_requests(1, path="/images/master", timeout=10)

    fake_altegio.latency = 3.0  # the answer is still on its way when SIGTERM comes
    envelope, url = _command(socket_mode, fake_slack, "/license", "4523464")
    socket_mode.wait_for_ack(envelope)
    started = time.monotonic()
    code, log = socket_bot.stop()
    assert code == 0, log
    assert time.monotonic() - started < 20
    (reply,) = fake_slack.responses(url)
    assert "Location 4523464" in text_of(reply)
    assert "requests already acknowledged" in log, log
