"""The database missing at start, and gone for a moment while the bot serves.

At start: the real `altegio-bot serve` in a subprocess prints one clear sentence and exits 2.
While serving: PostgreSQL sits behind a TCP proxy that the test cuts (every connection aborted,
new ones closed at once) and restores; the request that needed the database gets the plain
StoreUnavailable sentence, requests that do not need it are answered, /healthz says 503 then
200, and the same process answers normally once the database is back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.storage import generate_key
from tests.bot_fixtures import MakeBot
from tests.bot_server import BotServer
from tests.fakes import PARTNER_TOKEN, SIGNING_SECRET, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.slack_workspace import BOT_TOKEN
from tests.faults.support import ask, text_of
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.faults

NO_DATABASE = "I can't reach my database right now. Try again in a moment."


# ------------------------------------------------------------------------------ at start


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("altegio-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _serve(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "ALTEGIO_PARTNER_TOKEN": PARTNER_TOKEN,
        "ALTEGIO_API_URL": "http://127.0.0.1:9/api/v1",
        "DATABASE_URL": database_url,
        "BOT_ENCRYPTION_KEY": generate_key(),
    }
    return subprocess.run(  # noqa: S603 - our own console script
        [*_cli(), "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.mark.parametrize("where", ["postgres-nobody-listening", "sqlite-under-a-file"])
def test_database_unreachable_at_start_is_one_sentence_and_exit_code_2(
    tmp_path: Path, where: str
) -> None:
    if where.startswith("postgres"):
        url = f"postgresql://bot:Db-Pass-w0rd@127.0.0.1:{_closed_port()}/altegio"
        expected = "Cannot open the database postgresql"
    else:
        (tmp_path / "not-a-folder").write_text("a file where a folder should be")
        url = f"sqlite:///{tmp_path}/not-a-folder/bot.db"
        expected = "Cannot open the database sqlite+aiosqlite:///"
    finished = _serve(tmp_path, url)
    assert finished.returncode == 2, finished.stderr
    # An INFO line may come first ("Creating the SQLite database …"); the verdict is last.
    verdict = finished.stderr.strip().splitlines()[-1]
    assert verdict.startswith("altegio-bot cannot start: "), finished.stderr
    assert expected in verdict
    if where.startswith("postgres"):
        assert "bot:***@127.0.0.1" in finished.stderr and "Connection refused" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert "Db-Pass-w0rd" not in finished.stderr + finished.stdout
    assert len(finished.stderr.strip().splitlines()) <= 3, finished.stderr


# ------------------------------------------------------------------------- while serving


@pytest.fixture
def database_proxy(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """The test's PostgreSQL schema, reached through a proxy: (proxy, URL through it)."""
    parsed = make_url(postgres_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        through = parsed.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)


def _health(bot: BotServer, expected: int = 200) -> int:
    """/healthz's status once it has changed to `expected` (answers are reused for 2 s)."""
    deadline = time.monotonic() + 10
    while True:
        status = httpx.get(f"{bot.base_url}/healthz", timeout=10).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


@pytest.mark.postgres
async def test_database_cut_while_serving_fails_that_request_clearly_and_the_bot_recovers(
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    database_proxy: tuple[TcpProxy, str],
) -> None:
    proxy, url = database_proxy
    bot = make_bot(database_url=url, bot_encryption_key=generate_key())
    fake_altegio.add_license(4523464, plan="Business")
    async with SlackSender(bot.url) as slack:
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
        assert _health(bot) == 200

        proxy.cut()
        calls_before = len(fake_altegio.requests())
        reply = await ask(slack, fake_slack, "/license", "4523464")
        assert reply["text"] == NO_DATABASE
        assert len(fake_altegio.requests()) == calls_before  # nothing sent without the store
        assert _health(bot, 503) == 503
        assert (await ask(slack, fake_slack, "/altegio", "whoami"))["text"] == NO_DATABASE
        # What needs no database is still answered by the same process.
        phone = text_of(await ask(slack, fake_slack, "/phone", "+44 20 7946 0958"))
        assert "Altegio accepts this number" in phone

        proxy.restore()
        assert _health(bot) == 200
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
    assert fake_slack.calls("chat.postMessage") == []


@pytest.mark.postgres
async def test_backends_terminated_by_the_server_are_replaced_without_the_user_noticing(
    make_bot: MakeBot, fake_slack: FakeSlack, fake_altegio: FakeAltegio, postgres_url: str
) -> None:
    name = f"altegio-faults-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    bot = make_bot(
        database_url=url.render_as_string(hide_password=False), bot_encryption_key=generate_key()
    )
    fake_altegio.add_license(4523464)
    async with SlackSender(bot.url) as slack:
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
        admin = make_url(postgres_url).set(query={}).render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
        assert _health(bot) == 200
