"""The current tables, as the store queries them.

Every row of workspace data carries the Slack team id, so one database can serve several
workspaces (leases belong to the bot's own processes, not to a workspace). The schema is
created and changed only by `migrations.py`; a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# A NULL licence period would defeat the alerts' primary key (NULLs are never equal), so an
# unknown deactivation date is stored as this key instead.
UNKNOWN_PERIOD = "none"


def period_key(period: date | None) -> str:
    return period.isoformat() if period is not None else UNKNOWN_PERIOD


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always handed back timezone-aware.

    SQLite has no time zones: values are stored as naive UTC text of fixed width, which keeps
    string comparison (lease expiry) correct. Naive input is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("altegio_user_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("login", Text, nullable=False),
    # Fernet ciphertext bound to (team_id, user_id) only; the plain token never reaches the
    # database (crypto.py, keys.py).
    Column("token_ciphertext", Text, nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("team_id", "user_id", name="pk_accounts"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("team_id", "key", name="pk_deliveries"),
    Index("ix_deliveries_created_at", "created_at"),
)

files = Table(
    "files",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("file_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # uploading | done | failed
    Column("owner", String(64), nullable=True),  # the current claim's token while uploading
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("team_id", "file_id", name="pk_files"),
)

watches = Table(
    "watches",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("snoozed_until", UtcDateTime, nullable=True),
    Column("snoozed_by", String(32), nullable=True),
    # The licence period (deactivation date) the snooze was pressed on: it silences that period
    # only. NULL: a snooze with no period known, which holds whatever the period.
    Column("snoozed_period", Date, nullable=True),
    Column("acknowledged_period", Date, nullable=True),
    Column("acknowledged_by", String(32), nullable=True),
    # The watcher's language (handlers/i18n.py), for its alerts; NULL: DEFAULT_LOCALE.
    Column("locale", String(16), nullable=True),
    PrimaryKeyConstraint("team_id", "channel_id", "location_id", name="pk_watches"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("period", String(16), nullable=False),  # ISO date, or UNKNOWN_PERIOD
    Column("kind", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # claimed | sent
    Column("owner", String(255), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("message_ts", String(32), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint(
        "team_id", "channel_id", "location_id", "period", "kind", name="pk_alerts"
    ),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(255), nullable=False),
    Column("owner", String(255), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("name", name="pk_leases"),
)

# One row per key check: a known value encrypted with BOT_ENCRYPTION_KEY when the database first
# saw it, so a start with another key stops at once instead of finding every session unreadable.
key_checks = Table(
    "key_checks",
    metadata,
    Column("name", String(64), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("name", name="pk_key_checks"),
)

# One row per installed workspace (or Enterprise Grid org, for an org-wide install), keyed like
# every workspace row (handlers.tenancy.workspace_key). Tokens are ciphertext only.
installations = Table(
    "installations",
    metadata,
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
    Column("bot_token_expires_at", UtcDateTime, nullable=True),
    Column("installer_user_id", String(32), nullable=False),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("workspace", name="pk_installations"),
)

# The OAuth flow's state values, each consumed at most once by whichever process gets the
# redirect (a DELETE that only one caller's row count can win).
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("state", name="pk_oauth_states"),
    Index("ix_oauth_states_expires_at", "expires_at"),
)

# What the alert sweep's last fetch of a licence said (sweep/policy.py decides from it when to
# fetch again). Keyed by workspace like every other row: in a distributed app each workspace's
# watches are fetched with its own members' sessions, and its rows go when it uninstalls.
licence_summaries = Table(
    "licence_summaries",
    metadata,
    Column("team_id", String(32), nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("deactivation_date", Date, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
    Column("retry", Boolean, nullable=False),
    PrimaryKeyConstraint("team_id", "location_id", name="pk_licence_summaries"),
)

# Who did what, where and when, and how it ended (handlers/audit.py). No secrets: the Altegio
# account is named by its user id, never by login or token.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
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
