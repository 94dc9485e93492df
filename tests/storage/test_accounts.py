import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.storage import SqlStore, WrongEncryptionKey, generate_key, open_store
from bot.storage.schema import accounts
from bot.storage.urls import normalise_database_url, sqlite_path

TOKEN = "altegio-user-token-5f0c2b9e7d"  # distinctive, to grep for


async def _link(store: SqlStore, user: str = "U1", token: str = TOKEN, team: str = "T1"):
    return await store.save_account(
        team,
        user,
        altegio_user_id=42,
        name="Ada Lovelace",
        login="ada@example.com",
        user_token=token,
    )


async def test_save_get_forget(store, clock) -> None:
    assert await store.get_account("T1", "U1") is None
    saved = await _link(store)
    assert saved.user_token == TOKEN
    assert saved.linked_at == clock.now
    got = await store.get_account("T1", "U1")
    assert got == saved
    assert got.linked_at.tzinfo is not None and got.linked_at.utcoffset().total_seconds() == 0
    assert TOKEN not in repr(got)
    assert await store.forget_account("T1", "U1")
    assert await store.get_account("T1", "U1") is None
    assert not await store.forget_account("T1", "U1")


async def test_relinking_replaces_the_session(store, clock) -> None:
    await _link(store, token="first-token")
    clock.advance(60)
    await store.save_account(
        "T1",
        "U1",
        altegio_user_id=7,
        name="Grace",
        login="grace@example.com",
        user_token="second-token",
    )
    got = await store.get_account("T1", "U1")
    assert (got.altegio_user_id, got.name, got.login, got.user_token) == (
        7,
        "Grace",
        "grace@example.com",
        "second-token",
    )
    assert got.linked_at == clock.now


async def test_accounts_are_keyed_by_team_and_user(store) -> None:
    await _link(store, "U1", "t1-u1", team="T1")
    await _link(store, "U1", "t2-u1", team="T2")
    await _link(store, "U2", "t1-u2", team="T1")
    assert (await store.get_account("T1", "U1")).user_token == "t1-u1"
    assert (await store.get_account("T2", "U1")).user_token == "t2-u1"
    assert (await store.get_account("T1", "U2")).user_token == "t1-u2"
    assert await store.forget_account("T2", "U1")
    assert await store.get_account("T1", "U1") is not None


async def test_token_column_holds_only_ciphertext(store) -> None:
    await _link(store)
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(accounts))).one()
    assert all(TOKEN not in str(value) for value in row)
    assert row.token_ciphertext.startswith("gAAAA")  # a Fernet token


async def test_plaintext_token_is_nowhere_in_the_sqlite_files(sqlite_url, encryption_key) -> None:
    store = await open_store(sqlite_url, encryption_key)
    await _link(store)
    await _link(store, "U2")
    await store.forget_account("T1", "U2")
    assert (await store.get_account("T1", "U1")).user_token == TOKEN
    path = sqlite_path(normalise_database_url(sqlite_url))
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in files
    blobs = [p.read_bytes() for p in files]  # database, -wal and -shm while open
    await store.close()
    blobs.append(path.read_bytes())  # and after the WAL was checkpointed into the file
    for blob in blobs:
        assert TOKEN.encode() not in blob
    with sqlite3.connect(path) as raw:
        (stored,) = raw.execute("SELECT token_ciphertext FROM accounts").fetchone()
    assert TOKEN not in stored


async def test_rotation_reencrypts_on_read(database_url, clock) -> None:
    old, new = generate_key(), generate_key()
    before = await open_store(database_url, old, clock=clock)
    await _link(before)
    await before.close()

    rotated = await open_store(database_url, f"{new},{old}", clock=clock)
    assert (await rotated.get_account("T1", "U1")).user_token == TOKEN
    await rotated.close()

    only_new = await open_store(database_url, new, clock=clock)
    try:
        assert (await only_new.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await only_new.close()


async def test_reencrypt_accounts_finishes_a_rotation(database_url) -> None:
    old, new = generate_key(), generate_key()
    before = await open_store(database_url, old)
    for user in ("U1", "U2", "U3"):
        await _link(before, user)
    await before.close()
    rotated = await open_store(database_url, f"{new},{old}")
    assert await rotated.reencrypt_accounts() == 3
    assert await rotated.reencrypt_accounts() == 0
    await rotated.close()
    only_new = await open_store(database_url, new)
    try:
        assert {(await only_new.get_account("T1", u)).user_token for u in ("U1", "U2", "U3")} == {
            TOKEN
        }
    finally:
        await only_new.close()


async def test_a_wrong_key_stops_the_start_and_keeps_the_session(database_url) -> None:
    key = generate_key()
    first = await open_store(database_url, key)
    await _link(first)
    await first.close()
    with pytest.raises(WrongEncryptionKey, match="does not match this database"):
        await open_store(database_url, generate_key())
    again = await open_store(database_url, key)
    try:
        assert (await again.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await again.close()


async def test_a_session_copied_onto_another_users_row_does_not_decrypt(
    database_url, encryption_key, caplog
) -> None:
    store = await open_store(database_url, encryption_key)
    try:
        await _link(store, "U1")
        await _link(store, "U2", token="the-other-users-token")
        async with store.engine.begin() as conn:
            mine = (
                await conn.execute(
                    select(accounts.c.token_ciphertext).where(accounts.c.user_id == "U1")
                )
            ).scalar()
            for user_id, team_id in (("U2", "T1"), ("U3", "T1"), ("U1", "T2")):
                values = {"token_ciphertext": mine, "team_id": team_id, "user_id": user_id}
                await conn.execute(
                    accounts.delete().where(
                        accounts.c.user_id == user_id, accounts.c.team_id == team_id
                    )
                )
                await conn.execute(
                    accounts.insert().values(
                        altegio_user_id=42,
                        name="Ada",
                        login="ada@example.com",
                        linked_at=datetime(2026, 1, 1, tzinfo=UTC),
                        **values,
                    )
                )
        assert await store.get_account("T1", "U2") is None
        assert await store.get_account("T1", "U3") is None
        assert await store.get_account("T2", "U1") is None  # the same user id, another workspace
        assert "saved for another user" in caplog.text
        assert (await store.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await store.close()


async def test_naive_clock_is_read_as_utc(database_url, encryption_key) -> None:
    store = await open_store(database_url, encryption_key, clock=lambda: datetime(2026, 1, 2, 3))
    try:
        saved = await _link(store)
        assert saved.linked_at == datetime(2026, 1, 2, 3, tzinfo=UTC)
        assert (await store.get_account("T1", "U1")).linked_at == saved.linked_at
    finally:
        await store.close()
