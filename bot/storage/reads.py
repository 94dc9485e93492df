"""Single-statement reads on SQLite without SQLAlchemy's per-call round trips to aiosqlite.

aiosqlite runs every call to its connection on that connection's own thread, and each call is a
round trip: queue the call, wake the thread, wake the event loop with the result, and pass the GIL
to and fro. Through SQLAlchemy's cursor adapter one SELECT took four of them (cursor, execute,
fetch, close), and the connection's BEGIN and its ROLLBACK on return to the pool four more: a
primary-key lookup cost over 1 ms of CPU, most of it in those hand-overs. A single SELECT needs no
transaction around it (SQLite reads one consistent snapshot per statement), so here:

- `lookup` (a few rows by key, e.g. the acting user's linked account on every command) runs on
  the calling thread, on a read-only connection of its own that never waits: a lookup takes some
  tens of microseconds, far less than handing it to a thread. If it would have to wait (a lock;
  busy_timeout is 0 here) or cannot read the file, it goes the thread way below instead, which
  waits as long as every other query does and reports what is wrong.
- `fetch` (any SELECT, e.g. a list that may be long) is one `execute_fetchall` call on a pooled
  aiosqlite connection.

Either way each read asks the database file, never a cache: what another process has just
committed (a logout, say) is what the next read sees. SQLAlchemy still does the SQL: each
statement (a module constant with bind parameters) is compiled once by the engine's dialect and
its columns' types convert the values both ways, so rows come back as `Connection.execute` would
give them (e.g. timestamps timezone-aware). Driver errors are wrapped as SQLAlchemy's, as on every
other path.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

_Convert = Callable[[Any], Any] | None


class _Plan:
    __slots__ = ("binds", "conversions", "make_row", "sql")

    def __init__(self, stmt: Select[Any], engine: AsyncEngine) -> None:
        dialect = engine.dialect
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        # (name, required, default, conversion) for each positional parameter, in order.
        self.binds: list[tuple[str, bool, Any, _Convert]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding or "POSTCOMPILE" in self.sql:
                raise ValueError("IN (…) parameters are not supported on this path")
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.binds.append((name, bind.required, bind.effective_value, convert))
        columns = list(stmt.selected_columns)
        self.conversions = [
            (i, convert)
            for i, column in enumerate(columns)
            if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        # Rows read like SQLAlchemy's: by attribute (row.name) or by position.
        self.make_row = namedtuple("Row", [c.key for c in columns])._make  # type: ignore[misc]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, required, default, convert in self.binds:
            value = params[name] if required else default
            values.append(convert(value) if convert is not None else value)
        return tuple(values)

    def rows(self, raw_rows: list[Any]) -> list[Any]:
        if not self.conversions:
            return [self.make_row(raw) for raw in raw_rows]
        rows = []
        for raw in raw_rows:
            values = list(raw)
            for i, convert in self.conversions:
                values[i] = convert(values[i])
            rows.append(self.make_row(values))
        return rows


class SqliteReader:
    """Runs module-level SELECT statements for a SQLite engine (see the module docstring).

    `path` is the database file, None for an in-memory database (whose one connection lives on
    aiosqlite's thread, so every read takes that way). The engine must check connections in
    without a ROLLBACK when no transaction is open (engine.create_engine does).
    """

    def __init__(self, engine: AsyncEngine, path: Path | None) -> None:
        self._engine = engine
        self._path = path
        # Keyed by the statement object itself: callers pass constants, never new statements.
        self._plans: dict[Select[Any], _Plan] = {}
        self._here: sqlite3.Connection | None = None  # lookups' own connection
        self._here_thread: int | None = None

    def _plan(self, stmt: Select[Any]) -> _Plan:
        plan = self._plans.get(stmt)
        if plan is None:
            plan = self._plans[stmt] = _Plan(stmt, self._engine)
        return plan

    async def lookup(self, stmt: Select[Any], params: Mapping[str, Any]) -> list[Any]:
        """A read of a few rows by key: on this thread unless it would wait (see above)."""
        plan = self._plan(stmt)
        values = plan.parameters(params)
        raw_rows = self._read_here(plan.sql, values)
        if raw_rows is None:
            raw_rows = await self._read_on_thread(plan.sql, values)
        return plan.rows(raw_rows)

    async def fetch(self, stmt: Select[Any], params: Mapping[str, Any]) -> list[Any]:
        """Any read, however many rows: one call to a pooled aiosqlite connection's thread."""
        plan = self._plan(stmt)
        return plan.rows(await self._read_on_thread(plan.sql, plan.parameters(params)))

    def close(self) -> None:
        here, self._here = self._here, None
        if here is not None:
            # From another thread sqlite3 refuses; the garbage collector closes it then.
            with contextlib.suppress(sqlite3.ProgrammingError):
                here.close()

    def _read_here(self, sql: str, values: tuple[Any, ...]) -> list[Any] | None:
        """The rows, or None when the read must take the thread way (it would wait, the file
        cannot be read, or this is not the thread the connection was opened on)."""
        if self._path is None:
            return None
        thread = threading.get_ident()
        if self._here is None:
            try:
                self._here = _open_read_only(self._path)
            except sqlite3.Error:
                return None
            self._here_thread = thread
        elif self._here_thread != thread:
            return None
        try:
            # fetchall() ends the statement, and with it the read transaction: no snapshot is
            # held between lookups.
            return self._here.execute(sql, values).fetchall()
        except sqlite3.Error:
            # "database is locked" at once instead of waiting, or the file or this connection is
            # gone or damaged. Reopened next time; the thread way waits (busy_timeout) or
            # reports the error as every other query does.
            self.close()
            return None

    async def _read_on_thread(self, sql: str, values: tuple[Any, ...]) -> list[Any]:
        dialect = self._engine.dialect
        try:
            fairy = await self._engine.raw_connection()
        except sqlite3.Error as exc:  # Engine.connect() wraps these; the pool alone does not
            raise DBAPIError.instance(None, None, exc, sqlite3.Error, dialect=dialect) from exc
        try:
            driver = fairy.driver_connection
            try:
                return list(await driver.execute_fetchall(sql, values))  # type: ignore[union-attr]
            except ValueError as exc:
                # aiosqlite's word for a connection closed under it; SQLAlchemy's adapter says
                # the same as an OperationalError, so callers see the same error either way.
                raise sqlite3.OperationalError(str(exc)) from exc
        except sqlite3.Error as exc:
            gone = isinstance(exc.__cause__, ValueError) or dialect.is_disconnect(exc, fairy, None)
            if gone:
                fairy.invalidate(exc)
            raise DBAPIError.instance(
                sql, values, exc, sqlite3.Error, connection_invalidated=gone, dialect=dialect
            ) from exc
        finally:
            await greenlet_spawn(fairy.close)


def _open_read_only(path: Path) -> sqlite3.Connection:
    # mode=rw: never creates the file; query_only: never writes to it; timeout=0: a lock is
    # reported at once, never waited for on the event loop; isolation_level=None: no implicit
    # transactions (the module's own would keep a snapshot open between reads).
    uri = f"file:{quote(str(path.resolve()))}?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error:
        conn.close()
        raise
    return conn
