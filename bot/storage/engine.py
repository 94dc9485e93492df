"""Async engines tuned for sharing one database between processes.

SQLite: WAL lets readers go on while one process writes, and busy_timeout makes a writer wait for
the lock instead of failing at once, so a web process and a sweeper can share a file. The driver's
own transaction handling is switched off and BEGIN is emitted here, so writes can ask for
BEGIN IMMEDIATE (see `write_options`) and take the lock before they read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from .urls import sqlite_path

SQLITE_BUSY_TIMEOUT_MS = 30_000

_BEGIN_MODES = {m: f"BEGIN {m}" for m in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}

# Execution options for a connection that is about to write.
WRITE_OPTIONS: dict[str, Any] = {"sqlite_begin": "IMMEDIATE"}


def create_engine(url: str) -> AsyncEngine:
    """An engine for an already normalised URL (see urls.normalise_database_url)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)

    memory = sqlite_path(parsed) is None
    kwargs: dict[str, Any] = {}
    if memory:
        # Each connection to :memory: is a separate empty database: share one.
        kwargs["poolclass"] = StaticPool
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

    return engine
