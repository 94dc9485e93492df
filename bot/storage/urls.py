"""DATABASE_URL as people paste it, turned into what SQLAlchemy's async engine needs.

Operators copy URLs from Heroku (`postgres://`), from docs (`postgresql://user@host/db`) or write
`sqlite:///altegio-bot.db`; none of these name an async driver, so the app picks one: aiosqlite
for SQLite and psycopg (3) for PostgreSQL. Only the scheme is rewritten, the rest of the URL is
kept byte for byte so percent-encoded passwords and query options survive.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import UnsupportedDatabaseURL

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+psycopg"

# Schemes that name no driver or a sync one, mapped to the async driver we ship.
_SCHEMES: dict[str, str] = {
    "sqlite": SQLITE_DRIVER,
    "sqlite+pysqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
    "postgres": POSTGRES_DRIVER,
    "postgresql": POSTGRES_DRIVER,
    "postgresql+psycopg": POSTGRES_DRIVER,
    "postgresql+psycopg2": POSTGRES_DRIVER,
    "postgresql+psycopg2cffi": POSTGRES_DRIVER,
    "postgresql+pg8000": POSTGRES_DRIVER,
    # Already async: respected as given (asyncpg works if the operator installs it).
    "postgresql+psycopg_async": "postgresql+psycopg_async",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgres+asyncpg": "postgresql+asyncpg",
}

_EXAMPLES = "e.g. sqlite:///altegio-bot.db or postgresql://user:password@host:5432/dbname"


def normalise_database_url(url: str) -> str:
    """Return `url` with an async driver that create_async_engine accepts.

    Raises UnsupportedDatabaseURL (a sentence without the password) for anything else.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text.lower().startswith(("sqlite:", "postgres")):
            raise UnsupportedDatabaseURL(
                f"DATABASE_URL must start with a scheme and '://', {_EXAMPLES}."
            )
        raise UnsupportedDatabaseURL(f"DATABASE_URL is not a database URL: use {_EXAMPLES}.")
    driver = _SCHEMES.get(scheme.lower())
    if driver is None:
        raise UnsupportedDatabaseURL(
            f"DATABASE_URL uses '{scheme}', but altegio-bot supports SQLite and PostgreSQL only: "
            f"use {_EXAMPLES}."
        )
    if driver.startswith("sqlite") and rest and not rest.startswith("/"):
        # sqlite://file.db would make "file.db" a host name, which SQLite silently ignores.
        raise UnsupportedDatabaseURL(
            "DATABASE_URL for SQLite needs three slashes before a relative path "
            "(sqlite:///altegio-bot.db) or four before an absolute one (sqlite:////var/lib/bot.db)."
        )
    normalised = f"{driver}://{rest}"
    try:
        parsed = make_url(normalised)
    except ArgumentError:
        raise UnsupportedDatabaseURL(
            f"DATABASE_URL could not be parsed: use {_EXAMPLES} "
            "(characters such as @ : / in the password must be percent-encoded)."
        ) from None
    if driver.startswith("postgres") and not parsed.database:
        raise UnsupportedDatabaseURL(
            f"DATABASE_URL names no PostgreSQL database after the host: use {_EXAMPLES}."
        )
    return normalised


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError("not a SQLite URL")
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        # URI filenames (with ?uri=true) carry the path after "file:".
        database = database[len("file:") :]
        if database in ("", ":memory:"):
            return None
    return Path(database)


def redact(url: str | URL) -> str:
    """The URL without its password, safe for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable DATABASE_URL>"
