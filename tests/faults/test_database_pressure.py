"""The database saturated or stuck, and health checks arriving in floods.

A bot with one PostgreSQL connection and short waits: while another session holds the accounts
table locked, a command's read runs into statement_timeout and a second command at the same time
finds the pool's one connection busy past pool_timeout. Both people get the plain database
sentence within seconds, and the bot answers normally once the lock is gone. /healthz answers
from a result a couple of seconds old, so 200 probes at once ask the database about once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.storage import generate_key
from tests.bot_fixtures import MakeBot
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.faults.support import ask, text_of
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.faults

NO_DATABASE = "I can't reach my database right now. Try again in a moment."


@pytest.mark.postgres
async def test_a_busy_pool_and_a_stuck_statement_both_end_in_the_database_sentence_quickly(
    make_bot: MakeBot, fake_slack: FakeSlack, fake_altegio: FakeAltegio, postgres_url: str
) -> None:
    bot = make_bot(
        database_url=postgres_url,
        bot_encryption_key=generate_key(),
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=1,
        db_statement_timeout=1.5,
    )
    fake_altegio.add_license(4523464, plan="Business")
    async with SlackSender(bot.url) as slack:
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
        with psycopg.connect(postgres_url) as locker:
            locker.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            first, second = await asyncio.gather(
                ask(slack, fake_slack, "/license", "4523464"),
                ask(slack, fake_slack, "/license", "4523464"),
            )
            elapsed = time.monotonic() - started
            locker.rollback()
        assert first["text"] == NO_DATABASE and second["text"] == NO_DATABASE
        # One waited out statement_timeout (1.5 s), the other the pool (1 s) behind it: bounded
        # by the settings, not by how long the lock is held.
        assert elapsed < 8, elapsed
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_a_flood_of_health_probes_asks_the_database_a_handful_of_times(
    make_bot: MakeBot, request: pytest.FixtureRequest, backend: str
) -> None:
    overrides: dict[str, Any] = {}
    if backend == "postgres":
        overrides = {
            "database_url": request.getfixturevalue("postgres_url"),
            "bot_encryption_key": generate_key(),
        }
    bot = make_bot(**overrides)
    assert bot.runtime is not None
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = bot.runtime.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with httpx.AsyncClient(base_url=bot.base_url, timeout=10) as client:
            answers = await asyncio.gather(*(client.get("/healthz") for _ in range(200)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {a.status_code for a in answers} == {200}
    assert answers[0].json() == {"ok": True, "status": "ok", "database": "ok"}
    assert 1 <= len(statements) <= 3, statements


@pytest.mark.postgres
async def test_health_says_what_is_wrong_when_every_connection_is_busy(
    make_bot: MakeBot, postgres_url: str
) -> None:
    bot = make_bot(
        database_url=postgres_url,
        bot_encryption_key=generate_key(),
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.5,
    )
    assert bot.runtime is not None
    engine = bot.runtime.store.engine
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_only_connection() -> None:
        async with engine.connect():
            held.set()
            await release.wait()

    async def probe_while_held() -> tuple[int, dict[str, Any]]:
        holder = asyncio.ensure_future(hold_the_only_connection())
        await held.wait()
        # The probe is served by this same loop: wait for it off the loop.
        answer = await asyncio.get_running_loop().run_in_executor(
            None, lambda: httpx.get(f"{bot.base_url}/healthz", timeout=10)
        )
        release.set()
        await holder
        return answer.status_code, answer.json()

    status, body = bot.call(probe_while_held())
    assert status == 503
    assert body == {
        "ok": False,
        "status": "degraded",
        "database": "pool exhausted: every connection stayed busy",
    }


@pytest.fixture
def database_proxy(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:
    parsed = make_url(postgres_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        through = parsed.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_a_database_that_hangs_is_the_database_sentence_in_bounded_time(
    make_bot: MakeBot,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    database_proxy: tuple[TcpProxy, str],
) -> None:
    proxy, url = database_proxy
    bot = make_bot(
        database_url=url,
        bot_encryption_key=generate_key(),
        db_pool_timeout=1,
        db_connect_timeout=2,
        db_statement_timeout=2,
    )
    fake_altegio.add_license(4523464, plan="Business")
    async with SlackSender(bot.url) as slack:
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
        proxy.freeze()  # connections stay open, nothing comes back: no error, only silence
        started = time.monotonic()
        reply = await ask(slack, fake_slack, "/license", "4523464", timeout=20)
        elapsed = time.monotonic() - started
        assert reply["text"] == NO_DATABASE
        assert elapsed < 10, elapsed  # pool 1 s + connect 2 s + statement 2 s, and a margin
        proxy.restore()
        assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))
