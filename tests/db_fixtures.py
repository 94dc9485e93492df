"""Database fixtures any test folder can use (loaded from tests/conftest.py).

    sqlite_url     a fresh SQLite file in tmp_path, as a plain sqlite:////abs/path URL
    postgres_url   a fresh schema in a database private to this test run, as a plain
                   postgresql:// URL (skipped, with the reason, if TEST_DATABASE_URL is unset
                   or the server cannot be reached)
    database_url   parametrised over both: tests using it run once per database

Several test runs may share one PostgreSQL server, so each run creates its own database and
drops it at the end, and each test gets its own schema inside it (search_path in the URL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a dependency
    psycopg = None  # type: ignore[assignment]

TEST_DATABASE_URL_ENV = "TEST_DATABASE_URL"


def _admin_conninfo(url: str, database: str | None = None) -> str:
    """A libpq URL (no SQLAlchemy driver suffix) for psycopg.connect."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test run, as a plain postgresql:// URL."""
    server = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if not server:
        pytest.skip(f"{TEST_DATABASE_URL_ENV} is not set: PostgreSQL tests skipped")
    if psycopg is None:
        pytest.skip("psycopg is not installed: PostgreSQL tests skipped")
    try:
        admin = psycopg.connect(_admin_conninfo(server), autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.skip(f"PostgreSQL at {make_url(server).host} is unreachable: {reason}")
    name = f"altegio_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield _admin_conninfo(server, name)
    finally:
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.close()


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A fresh, empty schema for one test, selected through search_path in the URL."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema}", safe="")
    try:
        yield f"{postgres_database}?options={options}"
    finally:
        with psycopg.connect(postgres_database, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'altegio-bot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")
