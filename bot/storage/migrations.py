"""Schema versions, applied in order by the app itself at start-up.

Each step runs once, inside one transaction with its row in `schema_version`. Two processes that
start together must not both migrate: PostgreSQL serialises them with a transaction-scoped
advisory lock, SQLite with BEGIN IMMEDIATE (the database's single write lock). The second process
then finds the work done.

A step, once released, never changes: it describes the tables as they were at that version
(which is why step 1 spells its tables out rather than using schema.py), and later changes are
new steps appended to MIGRATIONS.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    column,
    func,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from . import schema
from .errors import SchemaTooNew

log = logging.getLogger(__name__)

# Any constant works as long as nothing else in the database uses it for another purpose.
ADVISORY_LOCK_KEY = zlib.crc32(b"altegio-bot schema migrations")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    md = MetaData()
    ts = DateTime(timezone=True)
    Table(
        "accounts",
        md,
        Column("team_id", String(32), nullable=False),
        Column("user_id", String(32), nullable=False),
        Column("altegio_user_id", BigInteger, nullable=False),
        Column("name", Text, nullable=False),
        Column("login", Text, nullable=False),
        Column("token_ciphertext", Text, nullable=False),
        Column("linked_at", ts, nullable=False),
        PrimaryKeyConstraint("team_id", "user_id", name="pk_accounts"),
    )
    Table(
        "deliveries",
        md,
        Column("team_id", String(32), nullable=False),
        Column("key", String(255), nullable=False),
        Column("created_at", ts, nullable=False),
        PrimaryKeyConstraint("team_id", "key", name="pk_deliveries"),
        Index("ix_deliveries_created_at", "created_at"),
    )
    Table(
        "files",
        md,
        Column("team_id", String(32), nullable=False),
        Column("file_id", String(64), nullable=False),
        Column("state", String(16), nullable=False),
        Column("lease_expires_at", ts, nullable=True),
        Column("detail", Text, nullable=False),
        Column("updated_at", ts, nullable=False),
        PrimaryKeyConstraint("team_id", "file_id", name="pk_files"),
    )
    Table(
        "watches",
        md,
        Column("team_id", String(32), nullable=False),
        Column("channel_id", String(32), nullable=False),
        Column("location_id", BigInteger, nullable=False),
        Column("created_by", String(32), nullable=False),
        Column("created_at", ts, nullable=False),
        Column("snoozed_until", ts, nullable=True),
        Column("snoozed_by", String(32), nullable=True),
        Column("acknowledged_period", Date, nullable=True),
        Column("acknowledged_by", String(32), nullable=True),
        PrimaryKeyConstraint("team_id", "channel_id", "location_id", name="pk_watches"),
    )
    Table(
        "alerts",
        md,
        Column("team_id", String(32), nullable=False),
        Column("channel_id", String(32), nullable=False),
        Column("location_id", BigInteger, nullable=False),
        Column("period", String(16), nullable=False),
        Column("kind", String(255), nullable=False),
        Column("state", String(16), nullable=False),
        Column("owner", String(255), nullable=True),
        Column("lease_expires_at", ts, nullable=True),
        Column("message_ts", String(32), nullable=True),
        Column("sent_at", ts, nullable=True),
        Column("created_at", ts, nullable=False),
        PrimaryKeyConstraint(
            "team_id", "channel_id", "location_id", "period", "kind", name="pk_alerts"
        ),
    )
    md.create_all(conn, checkfirst=False)


def _v2_leases(conn: Connection) -> None:
    md = MetaData()
    Table(
        "leases",
        md,
        Column("name", String(255), nullable=False),
        Column("owner", String(255), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("name", name="pk_leases"),
    )
    md.create_all(conn, checkfirst=False)
    # The alert sweep kept its bucket leases in the alert log before, under this team id.
    conn.execute(text("DELETE FROM alerts WHERE team_id = '~sweep'"))


def _v3_key_checks(conn: Connection) -> None:
    # The check value itself is written at start-up (keys.py): a migration has no key.
    md = MetaData()
    Table(
        "key_checks",
        md,
        Column("name", String(64), nullable=False),
        Column("ciphertext", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("name", name="pk_key_checks"),
    )
    md.create_all(conn, checkfirst=False)


def _v4_installations(conn: Connection) -> None:
    md = MetaData()
    ts = DateTime(timezone=True)
    Table(
        "installations",
        md,
        Column("workspace", String(32), nullable=False),
        Column("enterprise_id", String(32), nullable=True),
        Column("enterprise_name", Text, nullable=True),
        Column("enterprise_url", Text, nullable=True),
        Column("team_id", String(32), nullable=True),
        Column("team_name", Text, nullable=True),
        Column("app_id", String(32), nullable=True),
        Column("bot_id", String(32), nullable=True),
        Column("bot_user_id", String(32), nullable=True),
        Column("bot_scopes", Text, nullable=False),
        Column("bot_token_ciphertext", Text, nullable=False),
        Column("bot_refresh_token_ciphertext", Text, nullable=True),
        Column("bot_token_expires_at", ts, nullable=True),
        Column("installer_user_id", String(32), nullable=False),
        Column("is_enterprise_install", Boolean, nullable=False),
        Column("installed_at", ts, nullable=False),
        PrimaryKeyConstraint("workspace", name="pk_installations"),
    )
    Table(
        "oauth_states",
        md,
        Column("state", String(64), nullable=False),
        Column("expires_at", ts, nullable=False),
        PrimaryKeyConstraint("state", name="pk_oauth_states"),
        Index("ix_oauth_states_expires_at", "expires_at"),
    )
    md.create_all(conn, checkfirst=False)


def _v5_file_claim_owners(conn: Connection) -> None:
    # Claims taken before this have no owner; they finish by running out their lease.
    conn.execute(text("ALTER TABLE files ADD COLUMN owner VARCHAR(64)"))


def _v6_licence_summaries(conn: Connection) -> None:
    md = MetaData()
    Table(
        "licence_summaries",
        md,
        Column("team_id", String(32), nullable=False),
        Column("location_id", BigInteger, nullable=False),
        Column("deactivation_date", Date, nullable=True),
        Column("active", Boolean, nullable=False),
        Column("fetched_at", DateTime(timezone=True), nullable=False),
        Column("retry", Boolean, nullable=False),
        PrimaryKeyConstraint("team_id", "location_id", name="pk_licence_summaries"),
    )
    md.create_all(conn, checkfirst=False)


def _v7_audit_log(conn: Connection) -> None:
    md = MetaData()
    Table(
        "audit_log",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("team_id", String(32), nullable=False),
        Column("user_id", String(32), nullable=False),
        Column("channel_id", String(32), nullable=False),
        Column("action", String(32), nullable=False),
        Column("location_id", BigInteger, nullable=True),
        Column("target", String(255), nullable=False),
        Column("file_id", String(64), nullable=False),
        Column("ok", Boolean, nullable=False),
        Column("reason", String(255), nullable=False),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_team_at", "team_id", "at"),
    )
    md.create_all(conn, checkfirst=False)


def _v8_watch_locales(conn: Connection) -> None:
    # Watches set up before this have no language: their alerts use DEFAULT_LOCALE until
    # someone watches the location again.
    conn.execute(text("ALTER TABLE watches ADD COLUMN locale VARCHAR(16)"))


def _v9_snooze_periods(conn: Connection) -> None:
    # A snooze now silences one licence period, as an acknowledgement does.
    conn.execute(text("ALTER TABLE watches ADD COLUMN snoozed_period DATE"))
    watches = table(
        "watches",
        column("team_id"),
        column("channel_id"),
        column("location_id"),
        column("snoozed_until"),
        column("snoozed_period", Date),
    )
    alerts = table(
        "alerts",
        column("team_id"),
        column("channel_id"),
        column("location_id"),
        column("period"),
        column("state"),
    )
    # A snooze set before this was pressed on an alert of the latest period its channel was
    # alerted about: it keeps that period. With no dated alert logged it stays NULL, holding
    # whatever the period until it ends, as it did before.
    alerted = (
        select(
            watches.c.team_id,
            watches.c.channel_id,
            watches.c.location_id,
            func.max(alerts.c.period).label("period"),
        )
        .join(
            alerts,
            (alerts.c.team_id == watches.c.team_id)
            & (alerts.c.channel_id == watches.c.channel_id)
            & (alerts.c.location_id == watches.c.location_id),
        )
        .where(
            watches.c.snoozed_until.is_not(None),
            alerts.c.state == "sent",
            alerts.c.period != "none",
        )
        .group_by(watches.c.team_id, watches.c.channel_id, watches.c.location_id)
    )
    for row in conn.execute(alerted).all():
        conn.execute(
            update(watches)
            .where(
                watches.c.team_id == row.team_id,
                watches.c.channel_id == row.channel_id,
                watches.c.location_id == row.location_id,
            )
            .values(snoozed_period=date.fromisoformat(row.period))
        )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "accounts, deliveries, files, watches, alerts", _v1_initial),
    Migration(2, "leases", _v2_leases),
    Migration(3, "encryption key check", _v3_key_checks),
    Migration(4, "installations, oauth_states", _v4_installations),
    Migration(5, "file claim owners", _v5_file_claim_owners),
    Migration(6, "licence summaries", _v6_licence_summaries),
    Migration(7, "audit log", _v7_audit_log),
    Migration(8, "watch locales", _v8_watch_locales),
    Migration(9, "snooze periods", _v9_snooze_periods),
)

LATEST_VERSION = MIGRATIONS[-1].version


def _check_order(steps: tuple[Migration, ...]) -> None:
    versions = [m.version for m in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"migration versions must be 1..N in order, got {versions}")


_check_order(MIGRATIONS)


def _migrate(conn: Connection, steps: tuple[Migration, ...]) -> tuple[int, int]:
    if conn.dialect.name == "postgresql":
        # Waiting for another process's migration, or a long one, is not a stuck query.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    schema.schema_version.create(conn, checkfirst=True)
    current = conn.execute(select(func.max(schema.schema_version.c.version))).scalar() or 0
    latest = steps[-1].version if steps else 0
    if current > latest:
        raise SchemaTooNew(
            f"The database schema is at version {current}, newer than this altegio-bot knows "
            f"({latest}): run the newer version, or restore a backup made before the upgrade."
        )
    for step in steps:
        if step.version <= current:
            continue
        step.apply(conn)
        conn.execute(
            insert(schema.schema_version).values(
                version=step.version, description=step.description, applied_at=datetime.now(UTC)
            )
        )
        log.info("Database schema migrated to version %d: %s", step.version, step.description)
    return current, max(current, latest)


async def migrate(engine: AsyncEngine, steps: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring the schema up to date; safe to call from several processes at once."""
    _check_order(steps)
    async with engine.connect() as conn:
        # SQLite: take the write lock before reading the version, or two fresh processes could
        # both see version 0 and both try to create the tables.
        conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with conn.begin():
            _, version = await conn.run_sync(_migrate, steps)
    return version
