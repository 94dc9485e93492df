"""Storage: linked Altegio sessions, watches, the alert log and delivered Slack events.

    store = await open_store(settings.database_url, settings.bot_encryption_key)
    ...
    await store.close()

`open_store` normalises the URL, picks the encryption keys, creates the SQLite file (or connects
to PostgreSQL) and migrates the schema. Configuration problems raise `StorageConfigError` with a
sentence for the operator; an unreachable database raises `DatabaseUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from .crypto import (
    TokenCipher,
    generate_key,
    key_file_for,
    resolve_cipher,
    warn_if_others_can_read,
)
from .engine import PoolOptions, create_engine
from .errors import (
    DatabaseUnavailable,
    EncryptionKeyRequired,
    InvalidEncryptionKey,
    SchemaTooNew,
    StorageConfigError,
    StorageError,
    UnsupportedDatabaseURL,
    WrongEncryptionKey,
)
from .installations import SqlInstallationStore, SqlOAuthStateStore
from .keys import check_keys
from .migrations import LATEST_VERSION, migrate
from .store import SqlStore, utcnow
from .urls import is_sqlite, normalise_database_url, redact, sqlite_path

__all__ = [
    "LATEST_VERSION",
    "DatabaseUnavailable",
    "EncryptionKeyRequired",
    "InvalidEncryptionKey",
    "PoolOptions",
    "SchemaTooNew",
    "SqlInstallationStore",
    "SqlOAuthStateStore",
    "SqlStore",
    "StorageConfigError",
    "StorageError",
    "TokenCipher",
    "UnsupportedDatabaseURL",
    "WrongEncryptionKey",
    "generate_key",
    "normalise_database_url",
    "open_store",
    "redact",
]

log = logging.getLogger(__name__)


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


async def open_store(
    database_url: str,
    encryption_key: str | _Secret | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    pool: PoolOptions | None = None,
) -> SqlStore:
    """Open (creating and migrating as needed) the store named by DATABASE_URL.

    `encryption_key` is BOT_ENCRYPTION_KEY, as a string or a pydantic SecretStr; `pool` bounds
    PostgreSQL's connections and waits (SQLite keeps its own pool and busy timeout).
    """
    url = normalise_database_url(database_url)
    key = (
        encryption_key
        if encryption_key is None or isinstance(encryption_key, str)
        else encryption_key.get_secret_value()
    )
    sqlite = is_sqlite(url)
    path = sqlite_path(url) if sqlite else None
    try:
        if path is not None:
            await asyncio.to_thread(_prepare_sqlite_file, path)
        # Key errors come before any connection, so a misconfigured start fails fast and clearly.
        cipher = await asyncio.to_thread(resolve_cipher, key, sqlite=sqlite, database_path=path)
    except OSError as exc:  # e.g. a read-only directory for the database or its key file
        raise DatabaseUnavailable(
            f"Cannot prepare the SQLite database {path}: {exc.strerror or exc}"
        ) from exc
    engine = create_engine(url, pool)
    try:
        version = await migrate(engine)
        await check_keys(engine, cipher, key_source=_key_source(key, path))
    except StorageError:
        await engine.dispose()
        raise
    except (DBAPIError, OSError) as exc:
        await engine.dispose()
        raise DatabaseUnavailable(_unavailable(url, exc)) from exc
    except BaseException:
        await engine.dispose()
        raise
    log.info("Store ready: %s (schema version %d)", redact(url), version)
    # SQLite waits for its lock by itself (busy_timeout); only PostgreSQL gets a client deadline.
    deadline = None if sqlite else (pool or PoolOptions()).deadline
    return SqlStore(engine, cipher, clock=clock, deadline=deadline)


def _key_source(key: str | None, path: Path | None) -> str:
    if key and key.strip():
        return "BOT_ENCRYPTION_KEY"
    if path is not None:
        return f"the key file {key_file_for(path)} (BOT_ENCRYPTION_KEY is not set)"
    return "a temporary key"


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only; SQLite gives its -wal and -shm
    files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        warn_if_others_can_read(path, "The SQLite database", log)
        return
    except OSError:
        return  # e.g. the path runs through a file: SQLite's own error says it best
    os.close(fd)
    log.info("Creating the SQLite database %s", path.resolve())


def _unavailable(url: str, exc: BaseException) -> str:
    detail = getattr(exc, "orig", None) or exc
    first_line = (str(detail).strip().splitlines() or [type(detail).__name__])[0]
    return f"Cannot open the database {redact(url)}: {first_line}"
