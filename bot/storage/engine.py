"""Async engines tuned for sharing one database between processes.

SQLite: WAL lets readers go on while one process writes, and busy_timeout makes a writer wait for
the lock instead of failing at once, so a web process and a sweeper can share a file. The driver's
own transaction handling is switched off and BEGIN is emitted here, so writes can ask for
BEGIN IMMEDIATE (see `write_options`) and take the lock before they read. Reads of one statement
(reads.SqliteReader) send no BEGIN, and a connection comes back to the pool without a ROLLBACK
unless a transaction is still open on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState, StaticPool

from .urls import sqlite_path

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Open connections kept per process (each is a thread in aiosqlite; idle ones cost little).
SQLITE_POOL_SIZE = 20

_BEGIN_MODES = {m: f"BEGIN {m}" for m in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}

# Execution options for a connection that is about to write.
WRITE_OPTIONS: dict[str, Any] = {"sqlite_begin": "IMMEDIATE"}
# Execution options for a PostgreSQL connection that runs a single SELECT: no BEGIN, no ROLLBACK
# (SQLite reads take reads.SqliteReader instead).
READ_OPTIONS: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}


@dataclass(frozen=True)
class PoolOptions:
    """How long a PostgreSQL caller may wait, and for how many connections.

    Every wait is bounded, so a database that is gone, hung or saturated shows up as an error
    within seconds (StoreUnavailable for handlers) instead of requests piling up behind it.
    """

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 5.0  # seconds to wait for a free connection
    connect_timeout: float = 5.0  # seconds to open one
    statement_timeout: float = 15.0  # seconds one statement may run (0: no limit)

    @property
    def deadline(self) -> float | None:
        """Seconds one store call may take in all: a free connection, a fresh one if need be,
        and its statements. Kept by the client, for a server that hangs without erroring."""
        if self.statement_timeout <= 0:
            return None
        return self.pool_timeout + self.connect_timeout + self.statement_timeout + 1.0


def _postgres_connect_args(parsed: URL, options: PoolOptions) -> dict[str, Any]:
    # libpq takes whole seconds, at least 2 (it treats 1 as 2).
    args: dict[str, Any] = {"connect_timeout": max(2, round(options.connect_timeout))}
    if options.statement_timeout > 0:
        # connect_args replace the URL's own `options` (e.g. a search_path): keep both.
        given = parsed.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        ms = round(options.statement_timeout * 1000)
        args["options"] = f"{given} -c statement_timeout={ms}".strip()
    return args


def create_engine(url: str, options: PoolOptions | None = None) -> AsyncEngine:
    """An engine for an already normalised URL (see urls.normalise_database_url)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        options = options or PoolOptions()
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
            pool_timeout=options.pool_timeout,
            connect_args=_postgres_connect_args(parsed, options),
        )

    memory = sqlite_path(parsed) is None
    # Rolled back on return only if a transaction is open (see _on_reset): every other ROLLBACK
    # is a round trip to aiosqlite's thread that does nothing.
    kwargs: dict[str, Any] = {"pool_reset_on_return": None}
    if memory:
        # Each connection to :memory: is a separate empty database: share one.
        kwargs["poolclass"] = StaticPool
    else:
        # Connections are kept up to pool_size; beyond it each is opened for one use and closed:
        # a thread started, the file opened, the PRAGMAs run, about 1 ms of CPU. SQLAlchemy's
        # default of 5 made every burst of more than 5 concurrent commands pay that.
        kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown sqlite_begin mode {mode!r}")
        conn.exec_driver_sql(_BEGIN_MODES[mode])

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # SQLAlchemy's documented scheme for a custom reset (pool_reset_on_return=None). A
        # Connection ends its own transaction before returning (transaction_was_reset); this
        # catches any other way a transaction could be left open. As for the default reset,
        # nothing can be awaited when the connection is being garbage-collected.
        if state.transaction_was_reset or not state.asyncio_safe:
            return
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    return engine
