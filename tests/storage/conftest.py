from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import SqlStore, generate_key, open_store


class Clock:
    """A settable UTC clock, so lease expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return generate_key()


@pytest.fixture
async def make_store(
    database_url: str, encryption_key: str, clock: Clock
) -> AsyncIterator[Callable[[], Awaitable[SqlStore]]]:
    """Open stores on the test database, each with its own engine (as separate processes would)."""
    opened: list[SqlStore] = []

    async def make() -> SqlStore:
        store = await open_store(database_url, encryption_key, clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: Callable[[], Awaitable[SqlStore]]) -> SqlStore:
    return await make_store()
