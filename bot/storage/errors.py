"""Exceptions the store raises at start-up, each carrying one sentence an operator can act on.

The CLI catches `StorageConfigError` and prints its message with exit code 2; nothing here ever
contains a password or a key.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for storage problems."""


class StorageConfigError(StorageError):
    """The storage settings are wrong or incomplete; start-up cannot go on."""


class UnsupportedDatabaseURL(StorageConfigError):
    """DATABASE_URL is not a SQLite or PostgreSQL URL we can use."""


class EncryptionKeyRequired(StorageConfigError):
    """PostgreSQL (shared by several processes) needs BOT_ENCRYPTION_KEY set explicitly."""


class InvalidEncryptionKey(StorageConfigError):
    """BOT_ENCRYPTION_KEY or the key file holds something that is not a Fernet key."""


class WrongEncryptionKey(StorageConfigError):
    """No configured key opens what the database's first key encrypted."""


class SchemaTooNew(StorageConfigError):
    """The database was migrated by a newer altegio-bot than this one."""


class DatabaseUnavailable(StorageError):
    """The database could not be reached or opened."""
