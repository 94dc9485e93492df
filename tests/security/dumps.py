"""Every value stored in the bot's database, as text, for "nothing in plain text" checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


def database_text(url: str) -> str:
    """All rows of all tables (and, for SQLite, the raw bytes of the file and its WAL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        with sqlite3.connect(path) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            rows = [repr(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]  # noqa: S608
        return raw.decode("latin-1") + "\n".join(rows)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ]
        return "\n".join(
            repr(conn.execute(f'SELECT * FROM "{t}"').fetchall())  # noqa: S608 - our own tables
            for t in tables
        )


def account_rows(url: str, team_id: str, user_id: str) -> int:
    """Rows for one Slack user in the accounts table, read beside the bot, not through it."""
    parsed = make_url(url)
    query = "SELECT count(*) FROM accounts WHERE team_id = {0} AND user_id = {0}"
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as conn:
            return conn.execute(query.format("?"), (team_id, user_id)).fetchone()[0]
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(query.format("%s"), (team_id, user_id)).fetchone()
        return row[0] if row else 0
