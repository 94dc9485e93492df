"""Whichever process runs prunes old history: `serve` at start (then every 15 minutes), the
alert sweep after each sweep. The rows are written months "ago" through the store's clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.storage import generate_key, open_store
from bot.storage.schema import deliveries, files
from tests.cli.support import ServedCli, run


async def _seed(url: str, key: str) -> None:
    """Three deliveries and a photo record from last year, one delivery from now."""
    last_year = datetime.now(UTC) - timedelta(days=365)
    old = await open_store(url, key, clock=lambda: last_year)
    try:
        for n in range(3):
            assert await old.claim_delivery("T1", f"Ev-old-{n}")
        owner = await old.claim_file("T1", "F-old")
        assert await old.finish_file("T1", "F-old", owner=owner, ok=True)
    finally:
        await old.close()
    now = await open_store(url, key)
    try:
        assert await now.claim_delivery("T1", "Ev-new")
    finally:
        await now.close()


async def _counts(url: str, key: str) -> tuple[int, int]:
    store = await open_store(url, key)
    try:
        async with store.engine.connect() as conn:
            kept = []
            for table in (deliveries, files):
                count = select(func.count()).select_from(table)
                kept.append((await conn.execute(count)).scalar_one())
            return kept[0], kept[1]
    finally:
        await store.close()


def _wait_for_log(server: ServedCli, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)


async def test_one_alert_sweep_prunes_what_is_past_its_retention(
    fake_settings: dict[str, str], tmp_path: Path
) -> None:
    url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    await _seed(url, key)
    settings = {**fake_settings, "database_url": url, "bot_encryption_key": key}
    done = await asyncio.to_thread(run, ["alerts"], cwd=tmp_path, settings=settings)
    assert done.returncode == 0, done.stderr
    assert "pruned old rows: deliveries 3, files 1, alerts 0, leases 0" in done.stderr
    assert await _counts(url, key) == (1, 0)


async def test_serve_prunes_when_it_starts(fake_settings: dict[str, str], tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    await _seed(url, key)
    server = ServedCli({**fake_settings, "database_url": url, "bot_encryption_key": key}, tmp_path)
    try:
        await asyncio.to_thread(server.wait_ready)
        await asyncio.to_thread(_wait_for_log, server, "pruned old rows")
        assert await _counts(url, key) == (1, 0)
    finally:
        assert await asyncio.to_thread(server.stop) == 0
    assert "pruned old rows: deliveries 3, files 1" in server.log()
