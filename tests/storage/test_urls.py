from pathlib import Path

import pytest

from bot.storage import UnsupportedDatabaseURL, normalise_database_url, redact
from bot.storage.urls import is_sqlite, sqlite_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///altegio-bot.db", "sqlite+aiosqlite:///altegio-bot.db"),
        ("sqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("sqlite:////var/lib/bot/bot.db", "sqlite+aiosqlite:////var/lib/bot/bot.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+pysqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("sqlite+aiosqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("  sqlite:///bot.db\n", "sqlite+aiosqlite:///bot.db"),
        ("postgresql://user@host/db", "postgresql+psycopg://user@host/db"),
        ("postgresql://u:p@host:5433/db", "postgresql+psycopg://u:p@host:5433/db"),
        (
            "postgres://u:p%40ss@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8x?sslmode=require",
            "postgresql+psycopg://u:p%40ss@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8x"
            "?sslmode=require",
        ),
        ("POSTGRES://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg_async://u@h/db", "postgresql+psycopg_async://u@h/db"),
    ],
)
def test_normalise_picks_async_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("mysql://u@h/db", "SQLite and PostgreSQL only"),
        ("altegio-bot.db", "not a database URL"),
        ("sqlite:bot.db", "scheme"),
        ("sqlite://bot.db", "three slashes"),
        ("postgresql://u@host", "names no PostgreSQL database"),
        ("", "not a database URL"),
    ],
)
def test_normalise_rejects_with_a_sentence(given: str, words: str) -> None:
    with pytest.raises(UnsupportedDatabaseURL, match=words):
        normalise_database_url(given)


def test_rejection_never_echoes_the_password() -> None:
    with pytest.raises(UnsupportedDatabaseURL) as caught:
        normalise_database_url("mysql://user:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///altegio-bot.db", Path("altegio-bot.db")),
        ("sqlite:////var/lib/bot.db", Path("/var/lib/bot.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
    ],
)
def test_sqlite_path(url: str, path: Path | None) -> None:
    assert sqlite_path(normalise_database_url(url)) == path
    assert is_sqlite(normalise_database_url(url))


def test_redact_hides_password() -> None:
    shown = redact(normalise_database_url("postgres://bot:s3cret@db.example/bot"))
    assert "s3cret" not in shown
    assert "db.example/bot" in shown
    assert not is_sqlite(normalise_database_url("postgres://bot@db/bot"))
