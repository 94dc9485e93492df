"""Reads without a transaction around them (bot/storage/reads.py and SqlStore._fetch).

Whatever way a read takes, it asks the database: a session saved, replaced or forgotten through
another engine (another process) is what the very next read returns, and no read keeps a
snapshot open after it has returned.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.util import greenlet_spawn

from bot.storage import SqlStore, open_store, reads


@pytest.fixture
async def sqlite_stores(
    sqlite_url: str, encryption_key: str
) -> AsyncIterator[Callable[[], Awaitable[SqlStore]]]:
    """Like make_store, on SQLite only: stores with engines of their own, like processes."""
    opened: list[SqlStore] = []

    async def make() -> SqlStore:
        opened.append(await open_store(sqlite_url, encryption_key))
        return opened[-1]

    yield make
    for store in opened:
        await store.close()


async def _link(store, token: str, user: str = "U1") -> None:
    await store.save_account(
        "T1", user, altegio_user_id=42, name="Ada", login="ada@example.com", user_token=token
    )


async def test_another_process_login_relink_and_logout_show_at_the_next_read(make_store) -> None:
    web, other = await make_store(), await make_store()  # separate engines, like two processes
    for _ in range(3):  # the reader's connections are open and have read before
        assert await web.get_account("T1", "U1") is None
    await _link(other, "first-token")
    assert (await web.get_account("T1", "U1")).user_token == "first-token"
    await _link(other, "second-token")
    assert (await web.get_account("T1", "U1")).user_token == "second-token"
    assert await other.forget_account("T1", "U1")
    assert await web.get_account("T1", "U1") is None
    await other.add_watch("T1", "C1", 7, "U1")
    assert (await web.get_watch("T1", "C1", 7)).created_by == "U1"
    assert [w.location_id for w in await web.list_watches("T1")] == [7]
    assert await other.remove_watch("T1", "C1", 7)
    assert await web.get_watch("T1", "C1", 7) is None
    assert await web.list_watches("T1") == []


async def test_sqlite_reads_hold_no_snapshot_afterwards(sqlite_stores) -> None:
    web, other = await sqlite_stores(), await sqlite_stores()
    await _link(other, "token")
    for _ in range(5):
        assert await web.get_account("T1", "U1") is not None
        await web.list_watches()
    # A full checkpoint can only complete if no connection still reads an older snapshot.
    async with other.engine.connect() as conn:
        busy, _, _ = (await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
    assert busy == 0


async def test_a_lookup_that_cannot_be_done_at_once_is_done_on_a_thread(
    sqlite_stores, monkeypatch
) -> None:
    store = await sqlite_stores()
    await _link(store, "token")

    def locked(path):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(reads, "_open_read_only", locked)
    assert (await store.get_account("T1", "U1")).user_token == "token"
    assert (await store.get_account("T1", "U2")) is None


async def test_a_lookup_connection_that_fails_is_replaced(sqlite_stores) -> None:
    store = await sqlite_stores()
    await _link(store, "token")
    assert await store.get_account("T1", "U1") is not None
    reader = store._sqlite_reader
    broken = reader._here
    assert broken is not None  # lookups read on their own connection
    broken.close()  # e.g. the file was replaced under it
    assert (await store.get_account("T1", "U1")).user_token == "token"  # on a thread, this time
    assert await store.get_account("T1", "U1") is not None
    assert reader._here is not None and reader._here is not broken


async def test_lookups_never_create_the_database_file(tmp_path) -> None:
    path = tmp_path / "gone.db"
    with pytest.raises(sqlite3.OperationalError):
        reads._open_read_only(path)
    assert not path.exists()


async def test_a_connection_checked_in_mid_transaction_is_rolled_back(sqlite_stores) -> None:
    store = await sqlite_stores()
    fairy = await store.engine.raw_connection()
    await fairy.driver_connection.execute("BEGIN IMMEDIATE")  # holds the write lock
    assert fairy.driver_connection.in_transaction
    await greenlet_spawn(fairy.close)  # back to the pool: the reset must roll it back
    # The write lock is free again: another engine can write at once.
    other = await sqlite_stores()
    await asyncio.wait_for(_link(other, "token"), timeout=5)
    assert (await store.get_account("T1", "U1")).user_token == "token"


async def test_in_memory_sqlite_reads_its_one_shared_connection(encryption_key) -> None:
    store = await open_store("sqlite://", encryption_key)
    try:
        await _link(store, "token")
        assert (await store.get_account("T1", "U1")).user_token == "token"
        assert await store.list_watches() == []
    finally:
        await store.close()
