import asyncio
import sqlite3
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Date, DateTime, bindparam, insert, inspect, select, text

from bot.storage import LATEST_VERSION, DatabaseUnavailable, SchemaTooNew, generate_key, open_store
from bot.storage import schema as current
from bot.storage.engine import create_engine
from bot.storage.migrations import MIGRATIONS, Migration, migrate
from bot.storage.urls import normalise_database_url


async def _versions(store) -> list[int]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(current.schema_version.c.version))
        return sorted(rows.scalars())


async def test_first_start_creates_schema_at_latest_version(store) -> None:
    assert await _versions(store) == [m.version for m in MIGRATIONS]
    assert MIGRATIONS[-1].version == LATEST_VERSION
    await store.ping()


async def test_migrations_agree_with_schema_module(store) -> None:
    """What the migrations built is what schema.py queries: names, nullability, keys."""

    def describe(sync_conn):
        insp = inspect(sync_conn)
        found = {}
        for table in current.metadata.sorted_tables:
            columns = {c["name"]: c["nullable"] for c in insp.get_columns(table.name)}
            pk = insp.get_pk_constraint(table.name)["constrained_columns"]
            indexes = {i["name"] for i in insp.get_indexes(table.name)}
            found[table.name] = (columns, pk, indexes)
        return found

    async with store.engine.connect() as conn:
        found = await conn.run_sync(describe)
    for table in current.metadata.sorted_tables:
        columns, pk, indexes = found[table.name]
        assert columns == {c.name: c.nullable for c in table.columns}, table.name
        assert pk == [c.name for c in table.primary_key.columns], table.name
        assert {i.name for i in table.indexes} <= indexes, table.name


async def test_reopening_is_idempotent(database_url, encryption_key) -> None:
    for _ in range(3):
        store = await open_store(database_url, encryption_key)
        assert await _versions(store) == [m.version for m in MIGRATIONS]
        await store.close()


async def test_concurrent_first_starts_migrate_once(database_url, encryption_key) -> None:
    stores = await asyncio.gather(*(open_store(database_url, encryption_key) for _ in range(8)))
    try:
        assert await _versions(stores[0]) == [m.version for m in MIGRATIONS]
        assert await stores[3].add_watch("T1", "C1", 1, "U1")
        assert [w.location_id for w in await stores[5].list_watches()] == [1]
    finally:
        for store in stores:
            await store.close()


async def test_new_step_applies_once_in_order(database_url, encryption_key) -> None:
    await (await open_store(database_url, encryption_key)).close()
    calls: list[str] = []

    def add_table(conn) -> None:
        calls.append("extra")
        conn.execute(text("CREATE TABLE extra (id INTEGER PRIMARY KEY)"))

    new = LATEST_VERSION + 1
    steps = (*MIGRATIONS, Migration(new, "extra table", add_table))
    engine = create_engine(normalise_database_url(database_url))
    try:
        assert await asyncio.gather(migrate(engine, steps), migrate(engine, steps)) == [new, new]
        assert calls == ["extra"]
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM extra"))
    finally:
        await engine.dispose()


async def test_a_database_of_the_first_release_gains_the_leases_table(
    database_url, encryption_key
) -> None:
    engine = create_engine(normalise_database_url(database_url))
    try:
        assert await migrate(engine, MIGRATIONS[:1]) == 1
        async with engine.begin() as conn:
            await conn.execute(
                insert(current.watches).values(
                    team_id="T1",
                    channel_id="C1",
                    location_id=7,
                    created_by="U1",
                    created_at=datetime(2026, 3, 1, tzinfo=UTC),
                )
            )
            # A sent alert, and a bucket lease the sweep kept in the alert log before.
            for team_id, state in (("T1", "sent"), ("~sweep", "claimed")):
                await conn.execute(
                    insert(current.alerts).values(
                        team_id=team_id,
                        channel_id="C1",
                        location_id=7,
                        period="none",
                        kind="inactive",
                        state=state,
                        created_at=datetime(2026, 3, 1, tzinfo=UTC),
                    )
                )
    finally:
        await engine.dispose()
    old = await open_store(database_url, encryption_key)  # opening migrates
    try:
        assert await _versions(old) == [m.version for m in MIGRATIONS]
        assert [w.location_id for w in await old.list_watches()] == [7]
        assert await old.sent_alert_kinds("T1", "C1", 7, None) == {"inactive"}
        async with old.engine.connect() as conn:
            teams = (await conn.execute(select(current.alerts.c.team_id))).scalars().all()
        assert teams == ["T1"]
        assert await old.claim_lease("sweep/1", owner="a", lease_seconds=60)
        assert not await old.claim_lease("sweep/1", owner="b", lease_seconds=60)
    finally:
        await old.close()


async def test_snoozes_of_the_previous_version_keep_the_period_they_were_pressed_on(
    database_url, encryption_key
) -> None:
    """Version 8 had one snooze per watch, for any period: each gets the latest period its
    channel was alerted about; one with no dated alert keeps holding whatever the period."""
    engine = create_engine(normalise_database_url(database_url))
    at = datetime(2026, 3, 1, tzinfo=UTC)
    until = datetime(2026, 3, 8, tzinfo=UTC)
    try:
        assert await migrate(engine, MIGRATIONS[:8]) == 8
        async with engine.begin() as conn:
            for channel, snoozed in (("C1", True), ("C2", True), ("C3", False)):
                await conn.execute(
                    text(
                        "INSERT INTO watches (team_id, channel_id, location_id, created_by, "
                        "created_at, snoozed_until, snoozed_by, acknowledged_period, "
                        "acknowledged_by, locale) VALUES ('T1', :channel, 7, 'U1', :at, "
                        ":until, :by, :acked, :acked_by, 'es')"
                    ).bindparams(
                        bindparam("at", type_=DateTime(timezone=True)),
                        bindparam("until", type_=DateTime(timezone=True)),
                        bindparam("acked", type_=Date),
                    ),
                    {
                        "channel": channel,
                        "at": at,
                        "until": until if snoozed else None,
                        "by": "U2" if snoozed else None,
                        "acked": None if snoozed else date(2026, 4, 1),
                        "acked_by": None if snoozed else "U3",
                    },
                )
            # C1 was alerted about last year's licence, then this year's; C2 only about a
            # licence with no date; another workspace's rows count for nothing here.
            for team, channel, period in (
                ("T1", "C1", "2025-04-01"),
                ("T1", "C1", "2026-04-01"),
                ("T1", "C1", "none"),
                ("T1", "C2", "none"),
                ("T2", "C2", "2027-01-01"),
            ):
                await conn.execute(
                    insert(current.alerts).values(
                        team_id=team,
                        channel_id=channel,
                        location_id=7,
                        period=period,
                        kind="days:7",
                        state="sent",
                        created_at=at,
                    )
                )
    finally:
        await engine.dispose()
    old = await open_store(database_url, encryption_key)  # opening migrates
    try:
        assert await _versions(old) == [m.version for m in MIGRATIONS]
        c1, c2, c3 = await old.list_watches("T1")
        assert (c1.snoozed_until, c1.snoozed_by, c1.snoozed_period) == (
            until,
            "U2",
            date(2026, 4, 1),
        )
        assert (c2.snoozed_until, c2.snoozed_period) == (until, None)
        assert (c3.snoozed_until, c3.snoozed_period) == (None, None)
        assert (c3.acknowledged_period, c3.acknowledged_by, c3.locale) == (
            date(2026, 4, 1),
            "U3",
            "es",
        )
    finally:
        await old.close()


async def test_database_from_newer_release_is_refused(database_url, encryption_key) -> None:
    store = await open_store(database_url, encryption_key)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(current.schema_version).values(
                version=LATEST_VERSION + 1, description="future", applied_at=store._now()
            )
        )
    await store.close()
    with pytest.raises(SchemaTooNew, match="newer than this altegio-bot"):
        await open_store(database_url, encryption_key)


async def test_sqlite_file_created_with_parent_dir_wal_and_busy_timeout(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "bot.db"
    store = await open_store(f"sqlite:///{path}", None)
    try:
        assert path.exists()
        assert (tmp_path / "deep" / "er" / "bot.db.key").exists()
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT max(version) FROM schema_version").fetchone() == (
            LATEST_VERSION,
        )


async def test_relative_sqlite_path_is_relative_to_cwd(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///data/altegio-bot.db", None)
    await store.close()
    assert (tmp_path / "data" / "altegio-bot.db").exists()
    assert (tmp_path / "data" / "altegio-bot.db.key").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_memory_database(url: str) -> None:
    store = await open_store(url, None)
    try:
        assert await store.add_watch("T", "C", 1, "U")
        assert len(await store.list_watches()) == 1  # one database shared across connections
    finally:
        await store.close()


async def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_store("postgresql://bot:pw-never-shown@127.0.0.1:1/db", generate_key())
    assert "Cannot open the database" in str(caught.value)
    assert "pw-never-shown" not in str(caught.value)


async def test_unusable_sqlite_directory_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "not-a-dir").write_text("")  # fails for root too, unlike permissions
    with pytest.raises(DatabaseUnavailable, match="Cannot prepare the SQLite database"):
        await open_store(f"sqlite:///{tmp_path / 'not-a-dir' / 'sub' / 'bot.db'}", None)
