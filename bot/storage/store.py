"""The SQL implementation of handlers.store.Store.

Exactly-once guarantees come from single atomic statements, never from process memory: a claim is
an INSERT that a primary key lets only one caller win, or an UPDATE whose WHERE clause only one
caller can still satisfy (PostgreSQL re-checks it after waiting for a concurrent writer's row
lock; SQLite has one writer at a time). The row count says who won.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handlers.store import (
    SHARED_CHANNEL,
    AlertKey,
    AuditEvent,
    LicenceSummary,
    LinkedAccount,
    StoreUnavailable,
    Watch,
)

from .crypto import InvalidToken, TokenCipher
from .engine import READ_OPTIONS, WRITE_OPTIONS
from .keys import Rewrap, account_context, rotate_keys
from .reads import SqliteReader
from .schema import (
    UNKNOWN_PERIOD,
    accounts,
    alerts,
    audit_log,
    deliveries,
    files,
    installations,
    leases,
    licence_summaries,
    period_key,
    watches,
)
from .urls import sqlite_path

log = logging.getLogger(__name__)

# Rows deleted by one pruning statement: each is one short write transaction.
PRUNE_BATCH = 500

FILE_UPLOADING, FILE_DONE, FILE_FAILED = "uploading", "done", "failed"
ALERT_CLAIMED, ALERT_SENT = "claimed", "sent"

# The reads, built once with bind parameters: building a select() and its cache key for every
# call costs more CPU than running it on SQLite. Run them with SqlStore._fetch.
_ACCOUNT = select(accounts).where(
    accounts.c.team_id == bindparam("team_id"), accounts.c.user_id == bindparam("user_id")
)
_WATCH_KEY = and_(
    watches.c.team_id == bindparam("team_id"),
    watches.c.channel_id == bindparam("channel_id"),
    watches.c.location_id == bindparam("location_id"),
)
_WATCH = select(watches).where(_WATCH_KEY)
_SUMMARIES = select(licence_summaries)
_CURRENT_PERIOD = select(licence_summaries.c.deactivation_date).where(
    licence_summaries.c.team_id == bindparam("team_id"),
    licence_summaries.c.location_id == bindparam("location_id"),
)
# Rows written by one statement when saving licence summaries.
SUMMARY_BATCH = 500


def _watches_by(team: bool, channel: bool) -> Select[Any]:
    stmt = select(watches).order_by(watches.c.team_id, watches.c.channel_id, watches.c.location_id)
    if team:
        stmt = stmt.where(watches.c.team_id == bindparam("team_id"))
    if channel:
        stmt = stmt.where(watches.c.channel_id == bindparam("channel_id"))
    return stmt


# list_watches by (team given, channel given).
_WATCHES = {(t, c): _watches_by(t, c) for t in (False, True) for c in (False, True)}
_SENT_KINDS = select(alerts.c.kind).where(
    alerts.c.team_id == bindparam("team_id"),
    alerts.c.channel_id == bindparam("channel_id"),
    alerts.c.location_id == bindparam("location_id"),
    alerts.c.period == bindparam("period"),
    alerts.c.state == ALERT_SENT,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


# A database gone, refusing, hung past statement_timeout (OperationalError) or every pooled
# connection busy past pool_timeout (PoolTimeout) is the same to a person: try again soon.
_CONNECTIVITY = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    OSError,
    TimeoutError,
)


def unavailable_reason(exc: BaseException) -> str:
    """A few words on why the database could not be used, safe to log and to show a probe."""
    if isinstance(exc, PoolTimeout):
        return "pool exhausted: every connection stayed busy"
    if isinstance(exc, TimeoutError):
        return "timed out"
    cause = getattr(exc, "orig", None) or exc
    if type(cause).__name__ == "QueryCanceled":
        return "statement timeout"
    return f"unreachable: {type(cause).__name__}"


async def _within(seconds: float, call: Coroutine[Any, Any, Any]) -> Any:
    """The result of `call`, or TimeoutError after `seconds`.

    The caller is answered at the deadline; the call itself is cancelled and left to unwind on
    its own, since psycopg, cancelled, first tries to cancel the query on the server and then
    closes the connection, which against a hung server takes another ten seconds.
    """
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        task.cancel()
        task.add_done_callback(_consume)
        raise
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_consume)
        raise


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it as lost


def _unavailable_as_store_error(cls: type) -> type:
    """Handlers know nothing of SQL: a lost database reaches them as StoreUnavailable."""

    def guard(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def guarded(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            try:
                if self.deadline is None:
                    return await method(self, *args, **kwargs)
                return await _within(self.deadline, method(self, *args, **kwargs))
            except _CONNECTIVITY as exc:
                reason = unavailable_reason(exc)
                log.warning("database unavailable: %s", reason)
                raise StoreUnavailable(reason) from exc

        return guarded

    for name, method in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if not name.startswith("_") and name not in {"close", "ping", "reencrypt_accounts"}:
            setattr(cls, name, guard(method))
    return cls


@_unavailable_as_store_error
class SqlStore:
    """Store on SQLAlchemy Core over an AsyncEngine; create it with `open_store`."""

    def __init__(
        self,
        engine: AsyncEngine,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
        deadline: float | None = None,
    ) -> None:
        """`deadline`: seconds any one call may take in all, however the database misbehaves
        (one that hangs without an error answers no statement_timeout)."""
        self.engine = engine
        self.deadline = deadline
        self._cipher = cipher
        self._clock = clock
        self._dialect = engine.dialect.name
        self._sqlite_reader = (
            SqliteReader(engine, sqlite_path(engine.url)) if self._dialect == "sqlite" else None
        )
        # SQLite has one writer at a time. Between processes busy_timeout makes writers wait,
        # but it waits by sleeping and retrying: within one process, 32 writers contending that
        # way took up to 0.9 s each; queueing them here first, under 0.1 s.
        self._write_gate = asyncio.Lock() if self._dialect == "sqlite" else None

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    async def close(self) -> None:
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # -- helpers -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The store's clock (UTC), which pruning and claims measure time by."""
        return self._now()

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)

    def _insert(self, table: Table) -> Any:
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A committing transaction; on SQLite BEGIN IMMEDIATE takes the write lock up front,
        so a busy database makes us wait (busy_timeout) rather than fail part-way."""
        async with self._write_gate or nullcontext(), self.engine.connect() as conn:
            conn = await conn.execution_options(**WRITE_OPTIONS)
            async with conn.begin():
                yield conn

    async def _fetch(
        self, stmt: Select[Any], params: Mapping[str, Any], *, by_key: bool = False
    ) -> Sequence[Any]:
        """The rows of one SELECT (a module constant above), with no transaction around it.

        A single statement reads one consistent snapshot by itself, so reads skip BEGIN and
        ROLLBACK: on PostgreSQL two network round trips, on SQLite (see reads.py) trips to
        aiosqlite's thread. `by_key`: a few rows by key, which SQLite reads without a thread.
        The rows come from the database on every call, never from memory: what one process
        writes (e.g. a logout) is what every other process reads next.
        """
        if self._sqlite_reader is not None:
            if by_key:
                return await self._sqlite_reader.lookup(stmt, params)
            return await self._sqlite_reader.fetch(stmt, params)
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**READ_OPTIONS)
            return (await conn.execute(stmt, params)).all()

    async def _insert_new(self, conn: AsyncConnection, table: Table, **values: Any) -> bool:
        """INSERT … ON CONFLICT DO NOTHING: True only for the caller whose row went in."""
        stmt = (
            self._insert(table)
            .values(**values)
            .on_conflict_do_nothing()
            # SQLAlchemy reports INSERT row counts only when asked to.
            .execution_options(preserve_rowcount=True)
        )
        return _rowcount(await conn.execute(stmt)) == 1

    def encrypt_secret(self, plaintext: str, context: str) -> str:
        """Encrypt a secret other than an Altegio session (e.g. a Slack bot token)."""
        return self._cipher.encrypt(plaintext, context=context)

    def decrypt_secret(self, ciphertext: str, context: str) -> str:
        """Raises InvalidToken when no configured key opens it."""
        return self._cipher.decrypt(ciphertext, context=context)[0]

    # -- workspaces ----------------------------------------------------------------------------

    async def forget_workspace(self, team_id: str) -> dict[str, int]:
        """Delete a workspace's installation and everything kept for it, in one transaction:
        what another process reads next no longer has it. Returns the rows deleted per table.

        Delivery keys stay until they are pruned (a day): they are Slack's event ids and
        nothing else, and they keep a redelivered event from acting twice.
        """
        deleted: dict[str, int] = {}
        async with self._writing() as conn:
            for table in (installations, accounts, watches, alerts, files, licence_summaries):
                column = table.c.workspace if table is installations else table.c.team_id
                result = await conn.execute(delete(table).where(column == team_id))
                deleted[table.name] = _rowcount(result)
        return deleted

    # -- accounts ------------------------------------------------------------------------------

    async def save_account(
        self,
        team_id: str,
        user_id: str,
        *,
        altegio_user_id: int,
        name: str,
        login: str,
        user_token: str,
    ) -> LinkedAccount:
        linked_at = self._now()
        values = {
            "altegio_user_id": altegio_user_id,
            "name": name,
            "login": login,
            "token_ciphertext": self._cipher.encrypt(
                user_token, context=account_context(team_id, user_id)
            ),
            "linked_at": linked_at,
        }
        stmt = self._insert(accounts).values(team_id=team_id, user_id=user_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["team_id", "user_id"], set_=values)
        async with self._writing() as conn:
            await conn.execute(stmt)
        return LinkedAccount(
            team_id=team_id,
            user_id=user_id,
            altegio_user_id=altegio_user_id,
            name=name,
            login=login,
            linked_at=linked_at,
            user_token=user_token,
        )

    async def get_account(self, team_id: str, user_id: str) -> LinkedAccount | None:
        rows = await self._fetch(_ACCOUNT, {"team_id": team_id, "user_id": user_id}, by_key=True)
        if not rows:
            return None
        (row,) = rows  # the primary key
        try:
            user_token, stale = self._cipher.decrypt(
                row.token_ciphertext, context=account_context(team_id, user_id)
            )
        except InvalidToken:
            # Kept, not deleted: restoring the right key brings the session back.
            log.warning(
                "The stored Altegio session of Slack user %s (team %s) cannot be decrypted with "
                "the configured encryption keys, or was saved for another user; treating the "
                "user as not linked.",
                user_id,
                team_id,
            )
            return None
        if stale:
            await self._reencrypt(team_id, user_id, row.token_ciphertext, user_token)
        return LinkedAccount(
            team_id=team_id,
            user_id=user_id,
            altegio_user_id=row.altegio_user_id,
            name=row.name,
            login=row.login,
            linked_at=row.linked_at,
            user_token=user_token,
        )

    async def _reencrypt(self, team_id: str, user_id: str, old: str, plaintext: str) -> bool:
        # Compare-and-set on the old ciphertext, so a login saved meanwhile is not overwritten.
        stmt = (
            update(accounts)
            .where(
                accounts.c.team_id == team_id,
                accounts.c.user_id == user_id,
                accounts.c.token_ciphertext == old,
            )
            .values(
                token_ciphertext=self._cipher.encrypt(
                    plaintext, context=account_context(team_id, user_id)
                )
            )
        )
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) == 1

    async def reencrypt_accounts(self) -> int:
        """Re-encrypt every session not under the first key; returns how many were rewritten.

        Sessions are also re-encrypted as they are read; this finishes a key rotation at once,
        after which the old key can be dropped from BOT_ENCRYPTION_KEY.
        """
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(accounts.c.team_id, accounts.c.user_id, accounts.c.token_ciphertext)
                )
            ).all()
        rewritten = 0
        for row in rows:
            try:
                plaintext, stale = self._cipher.decrypt(
                    row.token_ciphertext, context=account_context(row.team_id, row.user_id)
                )
            except InvalidToken:
                log.warning(
                    "The stored session of Slack user %s (team %s) cannot be decrypted with any "
                    "configured key; left as it is.",
                    row.user_id,
                    row.team_id,
                )
                continue
            if stale and await self._reencrypt(
                row.team_id, row.user_id, row.token_ciphertext, plaintext
            ):
                rewritten += 1
        return rewritten

    async def rotate_keys(self) -> Rewrap:
        """Re-encrypt every stored secret and the key check under the first key."""
        return await rotate_keys(self.engine, self._cipher)

    async def forget_account(self, team_id: str, user_id: str) -> bool:
        stmt = delete(accounts).where(accounts.c.team_id == team_id, accounts.c.user_id == user_id)
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) > 0

    # -- deliveries ----------------------------------------------------------------------------

    async def claim_delivery(self, team_id: str, key: str) -> bool:
        async with self._writing() as conn:
            return await self._insert_new(
                conn, deliveries, team_id=team_id, key=key, created_at=self._now()
            )

    # -- pruning (bot/retention.py says what is kept, and why) ----------------------------------

    async def _prune(self, table: Table, where: Any, limit: int) -> int:
        """Delete at most `limit` rows of `table` matching `where`; returns how many went."""
        key = tuple_(*table.primary_key.columns)
        # correlate(None): the subquery reads the table itself, not the DELETE's row.
        victims = select(*table.primary_key.columns).where(where).limit(limit).correlate(None)
        if self._dialect == "postgresql":
            # Rows another pruner is deleting are skipped, not waited for.
            victims = victims.with_for_update(skip_locked=True)
        stmt = delete(table).where(key.in_(victims))
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt))

    async def prune_deliveries(self, before: datetime, *, limit: int = PRUNE_BATCH) -> int:
        """Delivery keys recorded before `before`."""
        return await self._prune(deliveries, deliveries.c.created_at < before, limit)

    async def prune_files(self, before: datetime, *, limit: int = PRUNE_BATCH) -> int:
        """File records last changed before `before`, except an upload whose lease still runs."""
        uploading = and_(
            files.c.state == FILE_UPLOADING,
            files.c.lease_expires_at.is_not(None),
            files.c.lease_expires_at > self._now(),
        )
        return await self._prune(files, and_(files.c.updated_at < before, ~uploading), limit)

    async def prune_alerts(self, before: datetime, *, limit: int = PRUNE_BATCH) -> int:
        """Alert-log rows from before `before` that no future sweep can need.

        - the channel no longer watches the location (a new watch is new news);
        - or the row's licence period ended before `before` and a later period of the same
          location has been alerted since (the licence was renewed: the old one cannot return);
        - or it is a claim whose lease ran out before `before` (taking it over or starting
          afresh comes to the same).
        A sent row of the current period is never pruned: the alert would be sent again.
        """
        later = alerts.alias("later")
        watched = (
            select(watches.c.team_id)
            .where(
                # A shared channel's row stands while any workspace watches it there.
                or_(watches.c.team_id == alerts.c.team_id, alerts.c.team_id == SHARED_CHANNEL),
                watches.c.channel_id == alerts.c.channel_id,
                watches.c.location_id == alerts.c.location_id,
            )
            .exists()
        )
        renewed = (
            select(later.c.period)
            .where(
                later.c.team_id == alerts.c.team_id,
                later.c.channel_id == alerts.c.channel_id,
                later.c.location_id == alerts.c.location_id,
                later.c.period != UNKNOWN_PERIOD,
                later.c.period > alerts.c.period,
            )
            .exists()
        )
        past_period = and_(
            alerts.c.period != UNKNOWN_PERIOD,
            alerts.c.period < before.date().isoformat(),
            renewed,
        )
        stale_claim = and_(alerts.c.state == ALERT_CLAIMED, alerts.c.lease_expires_at < before)
        old = func.coalesce(alerts.c.sent_at, alerts.c.created_at) < before
        where = or_(and_(old, or_(~watched, past_period)), stale_claim)
        return await self._prune(alerts, where, limit)

    async def prune_audit(self, before: datetime, *, limit: int = PRUNE_BATCH) -> int:
        """Audit rows recorded before `before`."""
        return await self._prune(audit_log, audit_log.c.at < before, limit)

    async def prune_leases(self, before: datetime, *, limit: int = PRUNE_BATCH) -> int:
        """Named leases that ran out before `before` (their holders stopped without releasing)."""
        return await self._prune(leases, leases.c.expires_at < before, limit)

    # -- audit trail ---------------------------------------------------------------------------

    async def record_audit(self, event: AuditEvent) -> None:
        values = {
            "at": event.at or self._now(),
            "team_id": event.team_id[:32],
            "user_id": event.user_id[:32],
            "channel_id": event.channel_id[:32],
            "action": event.action[:32],
            "location_id": event.location_id,
            "target": event.target[:255],
            "file_id": event.file_id[:64],
            "ok": event.ok,
            "reason": event.reason[:255],
        }
        async with self._writing() as conn:
            await conn.execute(audit_log.insert().values(**values))

    async def list_audit(
        self, *, since: datetime | None = None, team_id: str | None = None, limit: int = 10_000
    ) -> list[AuditEvent]:
        """Audit rows, oldest first: those since `since`, of one workspace if given."""
        stmt = select(audit_log).order_by(audit_log.c.at, audit_log.c.id).limit(limit)
        if since is not None:
            stmt = stmt.where(audit_log.c.at >= since)
        if team_id is not None:
            stmt = stmt.where(audit_log.c.team_id == team_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditEvent(
                team_id=row.team_id,
                user_id=row.user_id,
                action=row.action,
                channel_id=row.channel_id,
                location_id=row.location_id,
                target=row.target,
                file_id=row.file_id,
                ok=bool(row.ok),
                reason=row.reason,
                at=row.at,
            )
            for row in rows
        ]

    # -- files ---------------------------------------------------------------------------------

    async def claim_file(
        self, team_id: str, file_id: str, *, lease_seconds: float = 300
    ) -> str | None:
        """This claim's owner token if the caller should upload, else None.

        The token fences the claim: only its holder can finish it, so an upload that outlived
        its lease cannot overwrite the outcome of the one that took the file over.
        """
        now = self._now()
        lease = now + timedelta(seconds=lease_seconds)
        owner = secrets.token_hex(16)
        async with self._writing() as conn:
            if await self._insert_new(
                conn,
                files,
                team_id=team_id,
                file_id=file_id,
                state=FILE_UPLOADING,
                owner=owner,
                lease_expires_at=lease,
                detail="",
                updated_at=now,
            ):
                return owner
            # Retry a failed upload, or take over one whose uploader died mid-way.
            stmt = (
                update(files)
                .where(
                    files.c.team_id == team_id,
                    files.c.file_id == file_id,
                    or_(
                        files.c.state == FILE_FAILED,
                        and_(
                            files.c.state == FILE_UPLOADING,
                            or_(
                                files.c.lease_expires_at.is_(None),
                                files.c.lease_expires_at <= now,
                            ),
                        ),
                    ),
                )
                .values(
                    state=FILE_UPLOADING,
                    owner=owner,
                    lease_expires_at=lease,
                    detail="",
                    updated_at=now,
                )
            )
            return owner if _rowcount(await conn.execute(stmt)) == 1 else None

    async def finish_file(
        self, team_id: str, file_id: str, *, owner: str, ok: bool, detail: str = ""
    ) -> bool:
        """Record the outcome of the claim `owner` holds; False if that claim is not current."""
        stmt = (
            update(files)
            .where(
                files.c.team_id == team_id,
                files.c.file_id == file_id,
                files.c.state == FILE_UPLOADING,
                files.c.owner == owner,
            )
            .values(
                state=FILE_DONE if ok else FILE_FAILED,
                owner=None,
                lease_expires_at=None,
                detail=detail,
                updated_at=self._now(),
            )
        )
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) == 1

    # -- watches -------------------------------------------------------------------------------

    def _watch_key(self, team_id: str, channel_id: str, location_id: int) -> Any:
        return and_(
            watches.c.team_id == team_id,
            watches.c.channel_id == channel_id,
            watches.c.location_id == location_id,
        )

    async def add_watch(
        self,
        team_id: str,
        channel_id: str,
        location_id: int,
        user_id: str,
        *,
        locale: str | None = None,
    ) -> bool:
        """True for a new watch. Watching it again makes `user_id` its member: an app installed
        in many workspaces fetches the licence with that member's Altegio session, and the
        alerts speak that member's language, `locale`."""
        async with self._writing() as conn:
            if await self._insert_new(
                conn,
                watches,
                team_id=team_id,
                channel_id=channel_id,
                location_id=location_id,
                created_by=user_id,
                created_at=self._now(),
                locale=locale,
            ):
                return True
            await conn.execute(
                update(watches)
                .where(self._watch_key(team_id, channel_id, location_id))
                .values(created_by=user_id, locale=locale)
            )
            return False

    async def remove_watch(self, team_id: str, channel_id: str, location_id: int) -> bool:
        stmt = delete(watches).where(self._watch_key(team_id, channel_id, location_id))
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) > 0

    async def get_watch(self, team_id: str, channel_id: str, location_id: int) -> Watch | None:
        rows = await self._fetch(
            _WATCH,
            {"team_id": team_id, "channel_id": channel_id, "location_id": location_id},
            by_key=True,
        )
        return _watch(rows[0]) if rows else None

    async def list_watches(
        self, team_id: str | None = None, channel_id: str | None = None
    ) -> list[Watch]:
        stmt = _WATCHES[team_id is not None, channel_id is not None]
        rows = await self._fetch(stmt, {"team_id": team_id, "channel_id": channel_id})
        return [_watch(row) for row in rows]

    def _answer_may_replace(
        self, held: Any, period: date | None, team_id: str, location_id: int
    ) -> Any:
        """Whether an answer (snooze or acknowledgement) about `period` may replace the one the
        watch holds in column `held`: unless that one is about another period that is current.

        Current is what the sweep last fetched (licence_summaries); before any fetch, the later
        deactivation date. One statement, so two clicks about different periods cannot both
        read the old answer and the older period win.
        """
        current = (
            select(licence_summaries.c.deactivation_date)
            .where(
                licence_summaries.c.team_id == team_id,
                licence_summaries.c.location_id == location_id,
            )
            .scalar_subquery()
        )
        if period is None:
            same = held.is_(None)
            earlier = false()
        else:
            same = held == period
            earlier = held < period
        return or_(
            held.is_(None),
            same,
            and_(current.is_not(None), held != current),
            and_(current.is_(None), earlier),
        )

    async def snooze_watch(
        self,
        team_id: str,
        channel_id: str,
        location_id: int,
        *,
        until: datetime,
        user_id: str,
        period: date | None = None,
    ) -> bool:
        stmt = (
            update(watches)
            .where(
                self._watch_key(team_id, channel_id, location_id),
                self._answer_may_replace(watches.c.snoozed_period, period, team_id, location_id),
            )
            .values(snoozed_until=until, snoozed_by=user_id, snoozed_period=period)
        )
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) > 0

    async def acknowledge_watch(
        self, team_id: str, channel_id: str, location_id: int, *, period: date | None, user_id: str
    ) -> bool:
        stmt = (
            update(watches)
            .where(
                self._watch_key(team_id, channel_id, location_id),
                self._answer_may_replace(
                    watches.c.acknowledged_period, period, team_id, location_id
                ),
            )
            .values(acknowledged_period=period, acknowledged_by=user_id)
        )
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) > 0

    async def current_period(self, team_id: str, location_id: int) -> date | None:
        rows = await self._fetch(
            _CURRENT_PERIOD, {"team_id": team_id, "location_id": location_id}, by_key=True
        )
        return rows[0].deactivation_date if rows else None

    # -- alerts --------------------------------------------------------------------------------

    def _alert_key(self, key: AlertKey) -> Any:
        return and_(
            alerts.c.team_id == key.team_id,
            alerts.c.channel_id == key.channel_id,
            alerts.c.location_id == key.location_id,
            alerts.c.period == period_key(key.period),
            alerts.c.kind == key.kind,
        )

    async def claim_alert(self, key: AlertKey, *, owner: str, lease_seconds: float = 300) -> bool:
        now = self._now()
        lease = now + timedelta(seconds=lease_seconds)
        async with self._writing() as conn:
            if await self._insert_new(
                conn,
                alerts,
                **_alert_columns(key),
                state=ALERT_CLAIMED,
                owner=owner,
                lease_expires_at=lease,
                created_at=now,
            ):
                return True
            # Take over a claim whose sweeper died before completing or releasing it; a sent
            # alert is never claimed again.
            stmt = (
                update(alerts)
                .where(
                    self._alert_key(key),
                    alerts.c.state == ALERT_CLAIMED,
                    or_(alerts.c.lease_expires_at.is_(None), alerts.c.lease_expires_at <= now),
                )
                .values(owner=owner, lease_expires_at=lease)
            )
            return _rowcount(await conn.execute(stmt)) == 1

    async def complete_alert(self, key: AlertKey, *, message_ts: str) -> None:
        now = self._now()
        stmt = (
            update(alerts)
            .where(self._alert_key(key), alerts.c.state == ALERT_CLAIMED)
            .values(state=ALERT_SENT, message_ts=message_ts, sent_at=now, lease_expires_at=None)
        )
        async with self._writing() as conn:
            if _rowcount(await conn.execute(stmt)) == 0:
                # Released or never claimed: record the fact anyway, the message is out there
                # (a row already sent keeps its first message_ts).
                await self._insert_new(
                    conn,
                    alerts,
                    **_alert_columns(key),
                    state=ALERT_SENT,
                    message_ts=message_ts,
                    sent_at=now,
                    created_at=now,
                )

    async def release_alert(self, key: AlertKey) -> None:
        stmt = delete(alerts).where(self._alert_key(key), alerts.c.state == ALERT_CLAIMED)
        async with self._writing() as conn:
            await conn.execute(stmt)

    async def sent_alert_kinds(
        self, team_id: str, channel_id: str, location_id: int, period: date | None
    ) -> set[str]:
        params = {
            "team_id": team_id,
            "channel_id": channel_id,
            "location_id": location_id,
            "period": period_key(period),
        }
        return {row.kind for row in await self._fetch(_SENT_KINDS, params, by_key=True)}

    # -- licence summaries (the alert sweep's schedule) ----------------------------------------

    async def licence_summaries(self) -> dict[tuple[str, int], LicenceSummary]:
        rows = await self._fetch(_SUMMARIES, {})
        return {
            (row.team_id, row.location_id): LicenceSummary(
                team_id=row.team_id,
                location_id=row.location_id,
                deactivation_date=row.deactivation_date,
                active=bool(row.active),
                fetched_at=row.fetched_at,
                retry=bool(row.retry),
            )
            for row in rows
        }

    async def save_licence_summaries(self, summaries: list[LicenceSummary]) -> None:
        if not summaries:
            return
        insert = self._insert(licence_summaries)
        stmt = insert.on_conflict_do_update(
            index_elements=[licence_summaries.c.team_id, licence_summaries.c.location_id],
            set_={
                name: insert.excluded[name]
                for name in ("deactivation_date", "active", "fetched_at", "retry")
            },
        )
        rows = [
            {
                "team_id": s.team_id,
                "location_id": s.location_id,
                "deactivation_date": s.deactivation_date,
                "active": s.active,
                "fetched_at": s.fetched_at,
                "retry": s.retry,
            }
            for s in summaries
        ]
        for start in range(0, len(rows), SUMMARY_BATCH):
            async with self._writing() as conn:
                await conn.execute(stmt, rows[start : start + SUMMARY_BATCH])

    # -- leases --------------------------------------------------------------------------------

    async def claim_lease(self, name: str, *, owner: str, lease_seconds: float) -> bool:
        now = self._now()
        insert = self._insert(leases).values(
            name=name, owner=owner, expires_at=now + timedelta(seconds=lease_seconds)
        )
        # One statement: the row goes in, or the existing one is taken over only if its lease
        # has run out (or is already the caller's). On PostgreSQL a concurrent claimer waits
        # for the row lock and re-checks the condition, so exactly one of them wins.
        stmt = insert.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"owner": insert.excluded.owner, "expires_at": insert.excluded.expires_at},
            where=or_(leases.c.expires_at <= now, leases.c.owner == owner),
        ).execution_options(preserve_rowcount=True)
        async with self._writing() as conn:
            return _rowcount(await conn.execute(stmt)) == 1

    async def release_lease(self, name: str, *, owner: str) -> None:
        stmt = delete(leases).where(leases.c.name == name, leases.c.owner == owner)
        async with self._writing() as conn:
            await conn.execute(stmt)


def _alert_columns(key: AlertKey) -> dict[str, Any]:
    """The alert log's unique key, as column values."""
    return {
        "team_id": key.team_id,
        "channel_id": key.channel_id,
        "location_id": key.location_id,
        "period": period_key(key.period),
        "kind": key.kind,
    }


def _watch(row: Any) -> Watch:
    return Watch(
        team_id=row.team_id,
        channel_id=row.channel_id,
        location_id=row.location_id,
        created_by=row.created_by,
        created_at=row.created_at,
        snoozed_until=row.snoozed_until,
        snoozed_by=row.snoozed_by,
        acknowledged_period=row.acknowledged_period,
        acknowledged_by=row.acknowledged_by,
        locale=row.locale,
        snoozed_period=row.snoozed_period,
    )
