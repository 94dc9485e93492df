"""Separate OS processes starting at once on a fresh database, as a web process and sweepers do.

Each one migrates, finds (or creates) the encryption key, links a user, claims the same 20
alerts, and reads the others' sessions back: the migration runs once, the key is shared, and
every alert is won by exactly one process.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from bot.storage import open_store
from bot.storage.migrations import MIGRATIONS

PROCESSES = 4
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys, time
from datetime import date
from bot.storage import open_store
from handlers.store import AlertKey

async def main(url, key, name, start_at):
    time.sleep(max(0.0, start_at - time.time()))
    store = await open_store(url, key or None)
    await store.save_account("T1", name, altegio_user_id=1, name=name, login=name,
                             user_token="token-of-" + name)
    won = []
    for location in range(20):
        k = AlertKey("T1", "C1", location, date(2026, 5, 1), "days:7")
        if await store.claim_alert(k, owner=name):
            await store.complete_alert(k, message_ts=f"{location}.0")
            won.append(location)
    print(json.dumps({"won": won}))
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
"""


async def _run_processes(url: str, key: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start_at = time.time() + 2.0  # after every interpreter has imported SQLAlchemy
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SCRIPT,
            url,
            key,
            f"U{i}",
            str(start_at),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        for i in range(PROCESSES)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
    results = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


async def _check(url: str, key: str | None) -> None:
    results = await _run_processes(url, key or "")
    assert sorted(loc for r in results for loc in r["won"]) == list(range(20))
    store = await open_store(url, key)
    try:
        for i in range(PROCESSES):
            account = await store.get_account("T1", f"U{i}")
            assert account is not None and account.user_token == f"token-of-U{i}"
        async with store.engine.connect() as conn:
            versions = await conn.exec_driver_sql("SELECT count(*) FROM schema_version")
            assert versions.scalar() == len(MIGRATIONS)
    finally:
        await store.close()


async def test_processes_share_a_fresh_sqlite_file_and_its_key(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'bot.db'}"
    await _check(url, None)
    assert [p.name for p in (tmp_path / "fresh").glob("*.key")] == ["bot.db.key"]


@pytest.mark.postgres
async def test_processes_share_a_fresh_postgres_schema(postgres_url, encryption_key) -> None:
    await _check(postgres_url, encryption_key)
