"""The encryption keys against the database: a check at start-up, binding, rotation.

A wrong BOT_ENCRYPTION_KEY used to look like a database of people who had never linked. Now the
first start under a key writes a check value (a known text, encrypted) in `key_checks`; every
later start opens it first and stops, with one paragraph, when no configured key can.

That first start is also when secrets written before ciphertexts were bound to their rows are
bound (crypto.py): each is re-encrypted under the first key with its row's context.

Every encrypted column is listed in SECRET_COLUMNS, so the check, the binding and
`altegio-bot rotate-keys` cover each of them; a new table of secrets adds its entry there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .crypto import InvalidToken, TokenCipher
from .errors import WrongEncryptionKey
from .migrations import ADVISORY_LOCK_KEY
from .schema import accounts, installations, key_checks

log = logging.getLogger(__name__)

CHECK_NAME = "encryption"
CHECK_CONTEXT = "key-check"
CHECK_TEXT = "altegio-bot encryption key check"


def account_context(team_id: str, user_id: str) -> str:
    """What an account's session is bound to: a copy on another row does not decrypt."""
    return f"account/{team_id}/{user_id}"


def installation_context(workspace: str, kind: str) -> str:
    """What an installed workspace's `kind` of token ("bot", "refresh") is bound to."""
    return f"installation/{workspace}/{kind}"


@dataclass(frozen=True)
class SecretColumn:
    table: Table
    column: str
    key: tuple[str, ...]
    context: Callable[[Any], str]  # the context of a row (with its key columns)


SECRET_COLUMNS: tuple[SecretColumn, ...] = (
    SecretColumn(
        accounts,
        "token_ciphertext",
        ("team_id", "user_id"),
        lambda row: account_context(row.team_id, row.user_id),
    ),
    SecretColumn(
        installations,
        "bot_token_ciphertext",
        ("workspace",),
        lambda row: installation_context(row.workspace, "bot"),
    ),
    SecretColumn(
        installations,
        "bot_refresh_token_ciphertext",
        ("workspace",),
        lambda row: installation_context(row.workspace, "refresh"),
    ),
)


@dataclass
class Rewrap:
    """What a pass over the stored secrets did."""

    rewritten: int = 0
    current: int = 0
    unreadable: int = 0


WRONG_KEY = (
    "The encryption key in {source} does not match this database: none of its keys opens the "
    "check value written with the key the database was first used with, so no stored Altegio "
    "session could be read either. Set BOT_ENCRYPTION_KEY to that key (to rotate, to a new key "
    "followed by it, `<new>,<old>`, then run `altegio-bot rotate-keys`). Nothing in the database "
    "was changed."
)


async def check_keys(
    engine: AsyncEngine, cipher: TokenCipher, *, key_source: str = "BOT_ENCRYPTION_KEY"
) -> None:
    """At start-up: stop on a wrong key; on the first start under a key, write the check value
    and bind the secrets stored before binding existed."""
    await _in_transaction(engine, _check, cipher, key_source)


async def rotate_keys(engine: AsyncEngine, cipher: TokenCipher) -> Rewrap:
    """Re-encrypt the check value and every stored secret under the first key."""
    return await _in_transaction(engine, _rotate, cipher)


async def _in_transaction(engine: AsyncEngine, work: Callable[..., Any], *args: Any) -> Any:
    async with engine.connect() as conn:
        # SQLite: the write lock first; PostgreSQL: the migrations' lock, so two processes
        # starting together do not both write the check value.
        conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            return await conn.run_sync(work, *args)


def _check(conn: Connection, cipher: TokenCipher, key_source: str) -> None:
    stored = conn.execute(
        select(key_checks.c.ciphertext).where(key_checks.c.name == CHECK_NAME)
    ).scalar()
    if stored is not None:
        try:
            _, stale = cipher.decrypt(stored, context=CHECK_CONTEXT)
        except InvalidToken:
            raise WrongEncryptionKey(WRONG_KEY.format(source=key_source)) from None
        if stale:
            # The check follows the first key at once; secrets follow as they are read, or all
            # together with `altegio-bot rotate-keys`.
            _write_check(conn, cipher)
            log.info(
                "The first key of BOT_ENCRYPTION_KEY is new: run `altegio-bot rotate-keys` to "
                "re-encrypt the stored secrets under it, then drop the old key."
            )
        return
    # The first start with a key check: the database may hold secrets from before it.
    counts = _rewrap(conn, cipher, unbound_ok=True, dry_run=True)
    if counts.unreadable and not (counts.rewritten or counts.current):
        raise WrongEncryptionKey(WRONG_KEY.format(source=key_source))
    bound = _rewrap(conn, cipher, unbound_ok=True)
    conn.execute(
        insert(key_checks).values(
            name=CHECK_NAME,
            ciphertext=cipher.encrypt(CHECK_TEXT, context=CHECK_CONTEXT),
            created_at=datetime.now(UTC),
        )
    )
    log.info(
        "Wrote the encryption key check; %d stored secrets bound to their rows, %d unreadable "
        "with the configured keys (left as they are).",
        bound.rewritten,
        bound.unreadable,
    )


def _rotate(conn: Connection, cipher: TokenCipher) -> Rewrap:
    _check(conn, cipher, "BOT_ENCRYPTION_KEY")
    _write_check(conn, cipher)
    return _rewrap(conn, cipher, unbound_ok=False)


def _write_check(conn: Connection, cipher: TokenCipher) -> None:
    conn.execute(
        update(key_checks)
        .where(key_checks.c.name == CHECK_NAME)
        .values(ciphertext=cipher.encrypt(CHECK_TEXT, context=CHECK_CONTEXT))
    )


def _rewrap(
    conn: Connection, cipher: TokenCipher, *, unbound_ok: bool, dry_run: bool = False
) -> Rewrap:
    counts = Rewrap()
    for secret in SECRET_COLUMNS:
        column = secret.table.c[secret.column]
        keys = [secret.table.c[k] for k in secret.key]
        for row in conn.execute(select(*keys, column).where(column.is_not(None))).all():
            old = getattr(row, secret.column)
            context = secret.context(row)
            try:
                plaintext, stale = cipher.decrypt(old, context=context, unbound_ok=unbound_ok)
            except InvalidToken:
                counts.unreadable += 1
                continue
            if not stale:
                counts.current += 1
                continue
            counts.rewritten += 1
            if dry_run:
                continue
            where = and_(*(k == getattr(row, k.name) for k in keys), column == old)
            conn.execute(
                update(secret.table)
                .where(where)
                .values({secret.column: cipher.encrypt(plaintext, context=context)})
            )
    return counts
