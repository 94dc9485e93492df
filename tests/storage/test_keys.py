"""Keys that fail loudly: the check value, binding the sessions of the first release to their
rows, rotation of every stored secret, and a private SQLite file."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from bot.storage import SqlStore, WrongEncryptionKey, generate_key, open_store
from bot.storage.engine import create_engine
from bot.storage.migrations import LATEST_VERSION, MIGRATIONS, migrate
from bot.storage.schema import accounts, key_checks
from bot.storage.urls import normalise_database_url

TOKEN = "altegio-user-token-5f0c2b9e7d"


async def _link(store: SqlStore, user: str, token: str = TOKEN) -> None:
    await store.save_account(
        "T1", user, altegio_user_id=42, name="Ada", login="ada@example.com", user_token=token
    )


async def _first_release_database(url: str, key: str, users: dict[str, str]) -> None:
    """A database as the release before key checks left it: schema version 2, sessions
    encrypted with Fernet alone, bound to nothing."""
    engine = create_engine(normalise_database_url(url))
    try:
        assert await migrate(engine, MIGRATIONS[:2]) == 2
        async with engine.begin() as conn:
            for user, token in users.items():
                await conn.execute(
                    insert(accounts).values(
                        team_id="T1",
                        user_id=user,
                        altegio_user_id=42,
                        name="Ada",
                        login="ada@example.com",
                        token_ciphertext=Fernet(key).encrypt(token.encode()).decode(),
                        linked_at=datetime(2026, 1, 1, tzinfo=UTC),
                    )
                )
    finally:
        await engine.dispose()


async def _ciphertexts(store: SqlStore) -> dict[str, str]:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(accounts.c.user_id, accounts.c.token_ciphertext))).all()
    return dict(rows)  # type: ignore[arg-type]


async def test_the_first_start_writes_a_check_value_under_the_key(database_url) -> None:
    key = generate_key()
    store = await open_store(database_url, key)
    try:
        async with store.engine.connect() as conn:
            (check,) = (await conn.execute(select(key_checks.c.ciphertext))).scalars().all()
        assert Fernet(key).decrypt(check.encode())  # a Fernet token under that key
    finally:
        await store.close()
    with pytest.raises(WrongEncryptionKey) as refused:
        await open_store(database_url, generate_key())
    message = str(refused.value)
    assert "BOT_ENCRYPTION_KEY" in message and "rotate-keys" in message
    assert key not in message and "\n" not in message


async def test_sessions_of_the_first_release_are_bound_to_their_rows_on_upgrade(
    database_url,
) -> None:
    key = generate_key()
    await _first_release_database(database_url, key, {"U1": TOKEN, "U2": "token-of-u2"})
    store = await open_store(database_url, key)
    try:
        assert {(await store.get_account("T1", u)).user_token for u in ("U1", "U2")} == {
            TOKEN,
            "token-of-u2",
        }
        stored = await _ciphertexts(store)
        # Rewritten, and now bound: U1's ciphertext on U2's row does not open.
        async with store.engine.begin() as conn:
            await conn.execute(
                accounts.update()
                .where(accounts.c.user_id == "U2")
                .values(token_ciphertext=stored["U1"])
            )
        assert await store.get_account("T1", "U2") is None
        assert (await store.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await store.close()


async def test_a_first_release_database_opened_with_the_wrong_key_is_refused_untouched(
    database_url,
) -> None:
    key = generate_key()
    await _first_release_database(database_url, key, {"U1": TOKEN})
    with pytest.raises(WrongEncryptionKey):
        await open_store(database_url, generate_key())
    store = await open_store(database_url, key)  # the right key still reads it
    try:
        assert (await store.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await store.close()


async def test_rotate_keys_reencrypts_every_secret_so_the_old_key_can_go(database_url) -> None:
    old, new = generate_key(), generate_key()
    before = await open_store(database_url, old)
    for user in ("U1", "U2", "U3"):
        await _link(before, user)
    await before.close()
    with pytest.raises(WrongEncryptionKey):  # the old key dropped too early
        await open_store(database_url, new)

    rotated = await open_store(database_url, f"{new},{old}")
    try:
        done = await rotated.rotate_keys()
        assert (done.rewritten, done.current, done.unreadable) == (3, 0, 0)
        again = await rotated.rotate_keys()
        assert (again.rewritten, again.current) == (0, 3)
    finally:
        await rotated.close()
    only_new = await open_store(database_url, new)
    try:
        for user in ("U1", "U2", "U3"):
            assert (await only_new.get_account("T1", user)).user_token == TOKEN
    finally:
        await only_new.close()


async def test_a_new_key_first_moves_the_check_so_old_sessions_still_read_on_the_way(
    database_url,
) -> None:
    old, new = generate_key(), generate_key()
    before = await open_store(database_url, old)
    await _link(before, "U1")
    await before.close()
    rotated = await open_store(database_url, f"{new},{old}")
    try:
        assert (await rotated.get_account("T1", "U1")).user_token == TOKEN  # re-encrypted
    finally:
        await rotated.close()
    only_new = await open_store(database_url, new)
    try:
        assert (await only_new.get_account("T1", "U1")).user_token == TOKEN
    finally:
        await only_new.close()


async def test_the_schema_is_at_the_latest_version(database_url, encryption_key) -> None:
    store = await open_store(database_url, encryption_key)
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(select(key_checks.c.name))).scalars().all() == ["encryption"]
        assert LATEST_VERSION == MIGRATIONS[-1].version >= 3
    finally:
        await store.close()


async def test_a_new_sqlite_database_and_its_wal_are_readable_by_the_owner_only(tmp_path) -> None:
    path = tmp_path / "data" / "bot.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        await _link(store, "U1")
        files = [path, path.with_name("bot.db-wal"), path.with_name("bot.db-shm")]
        files.append(path.with_name("bot.db.key"))
        for file in files:
            assert file.exists(), file
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        await store.close()


async def test_an_existing_world_readable_database_is_warned_about(tmp_path, caplog) -> None:
    path = tmp_path / "bot.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    store = await open_store(f"sqlite:///{path}", generate_key())
    await store.close()
    assert "chmod 600" in caplog.text
