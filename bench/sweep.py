"""Alert sweep throughput: 1,000 watched locations against the fake Altegio at its rate limit.

    python -m bench.sweep [--locations 1000] [--rate 50] [--latency 0.05]
                          [--database-url postgresql://postgres@127.0.0.1:5432/test]
                          [--redis-url redis://127.0.0.1:6379/0] [--unshared]

The fake Altegio answers every request after `latency` seconds and refuses (429) any request
beyond `rate` in a sliding second, as Altegio does; each sweeper paces itself to the same
`rate`. Printed per run: wall time against the ideal N / rate, the 429s the fake answered,
requests sent, alerts posted (each exactly once).

The limiter keeps 5 % headroom below the rate (see api/ratelimit.py), so 1.05 x N / rate is the
floor; the goal is 1.1 x with no 429.

Runs: one sweeper; two sweepers at once sharing the limit through Redis (a key of its own per
run); with --unshared, two sweepers each pacing only itself (what happens without REDIS_URL).
Each sweeper is a process of its own with its own database engine, Altegio client and Slack
client, started together; the fakes run in another process, so no two share a GIL. Every run
starts on a fresh database (a new SQLite file, or a new schema with --database-url).
Everything listens on 127.0.0.1 only, and the bench stops by itself (a deadline per run).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEAM = "T0BENCH"
CHANNELS = 20
FIRST_LOCATION = 100_001
RUN_DEADLINE = 600.0  # seconds; a run that takes longer is reported as failed


@dataclass
class Setup:
    locations: int
    rate: float
    latency: float
    lapsing_every: int  # every n-th location lapses within a week, the rest in 200 days


# -- the fakes, in a process of their own -----------------------------------------------------


def _fakes_main(conn: Any, setup: Setup) -> None:
    from tests.fakes import FakeAltegio, FakeSlack

    with FakeAltegio(latency=setup.latency) as altegio, FakeSlack() as slack:

        def prepare() -> None:
            altegio.reset()
            slack.reset()
            for i in range(setup.locations):
                days = 5 if i % setup.lapsing_every == 0 else 200
                altegio.add_license(FIRST_LOCATION + i, days_left=days)
            altegio.limit_rate(per_second=int(setup.rate), per_minute=None)

        prepare()
        conn.send((altegio.base_url, slack.api_url))
        while True:
            command = conn.recv()
            if command == "reset":
                prepare()
                conn.send("ok")
            elif command == "stats":
                licences = altegio.requests("/license/")
                statuses = [r.status for r in licences]
                posts = slack.calls("chat.postMessage", ok=True)
                conn.send(
                    {
                        "requests": len(licences),
                        "refused_429": statuses.count(429),
                        "max_per_second": altegio.max_rate(1.0, path="/license/"),
                        "refused_at": [
                            round(r.started - licences[0].started, 3)
                            for r in licences
                            if r.status == 429
                        ],
                        "first": min((r.started for r in licences), default=0.0),
                        "last": max((r.started for r in licences), default=0.0),
                        "posted": len(posts),
                        "distinct_alerts": len(
                            {(c.args.get("channel"), c.args.get("text")) for c in posts}
                        ),
                    }
                )
            else:
                conn.send("bye")
                return


# -- one sweeper process ----------------------------------------------------------------------


def _sweeper_main(
    name: str,
    database_url: str,
    key: str,
    urls: tuple[str, str],
    rate: float,
    redis: tuple[str, str] | None,
    go: Any,
    results: Any,
) -> None:
    # The figures count every 429 and failure; the per-request log lines would drown them.
    logging.basicConfig(level=logging.ERROR, format="%(processName)s %(levelname)s %(message)s")
    asyncio.run(_sweeper(name, database_url, key, urls, rate, redis, go, results))


async def _sweeper(
    name: str,
    database_url: str,
    key: str,
    urls: tuple[str, str],
    rate: float,
    redis: tuple[str, str] | None,
    go: Any,
    results: Any,
) -> None:
    import aiohttp

    from api import AltegioClient, CacheTTLs, RedisRateLimiter, TokenBucket
    from bot.settings import load_settings
    from bot.slack_client import SWEEP_RETRIES, web_client
    from bot.storage import open_store
    from handlers.config import HandlerConfig
    from sweep.alerts import sweep
    from tests.fakes import BOT_TOKEN, PARTNER_TOKEN, SIGNING_SECRET

    altegio_url, slack_url = urls
    store = await open_store(database_url, key)
    limiter = RedisRateLimiter(redis[0], rate, key=redis[1]) if redis else TokenBucket(rate)
    altegio = AltegioClient(altegio_url, PARTNER_TOKEN, limiter=limiter, cache=CacheTTLs(license=0))
    settings = load_settings(
        env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_url,
        altegio_partner_token=PARTNER_TOKEN,
        altegio_api_url=altegio_url,
    )
    session = aiohttp.ClientSession()
    try:
        client = web_client(settings, session, retries=SWEEP_RETRIES)
        results.put(("ready", name))
        await asyncio.to_thread(go.wait)
        started = time.monotonic()
        summary = await sweep(altegio, store, client, HandlerConfig(), owner=name)
        results.put(("done", name, started, time.monotonic(), asdict(summary)))
    except BaseException as exc:
        results.put(("failed", name, repr(exc)))
        raise
    finally:
        await session.close()
        await altegio.aclose()
        if isinstance(limiter, RedisRateLimiter):
            await limiter.aclose()
        await store.close()


# -- databases --------------------------------------------------------------------------------


class Databases:
    """A fresh database per run: a SQLite file, or a PostgreSQL schema dropped at the end."""

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url = server_url
        self.workdir = workdir
        self.schemas: list[str] = []

    def fresh(self) -> str:
        name = uuid.uuid4().hex[:10]
        if not self.server_url:
            return f"sqlite:///{self.workdir / f'sweep-{name}.db'}"
        import psycopg

        schema = f"bench_sweep_{name}"
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return f"{self.server_url}?options={quote(f'-csearch_path={schema}', safe='')}"

    def drop_all(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _watch_all(database_url: str, key: str, setup: Setup) -> None:
    from bot.storage import open_store

    store = await open_store(database_url, key)
    try:
        for i in range(setup.locations):
            channel = f"C{i % CHANNELS:04d}"
            await store.add_watch(TEAM, channel, FIRST_LOCATION + i, "U0BENCH")
    finally:
        await store.close()


# -- one run ----------------------------------------------------------------------------------


def run(
    label: str,
    *,
    sweepers: int,
    redis_url: str | None,
    setup: Setup,
    fakes: Any,
    urls: tuple[str, str],
    databases: Databases,
) -> dict[str, Any]:
    from bot.storage import generate_key

    fakes.send("reset")
    fakes.recv()
    key = generate_key()
    database_url = databases.fresh()
    asyncio.run(_watch_all(database_url, key, setup))
    redis = (redis_url, f"altegio-bot-bench:{uuid.uuid4().hex}") if redis_url else None

    ctx = mp.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    processes = [
        ctx.Process(
            target=_sweeper_main,
            args=(f"{label}-{n}", database_url, key, urls, setup.rate, redis, go, results),
            daemon=True,
        )
        for n in range(sweepers)
    ]
    for p in processes:
        p.start()
    deadline = time.monotonic() + RUN_DEADLINE
    done: list[tuple] = []
    try:
        ready = 0
        while ready < sweepers:
            message = results.get(timeout=max(1.0, deadline - time.monotonic()))
            if message[0] == "failed":
                raise RuntimeError(f"{message[1]} failed: {message[2]}")
            ready += 1
        go.set()
        while len(done) < sweepers:
            message = results.get(timeout=max(1.0, deadline - time.monotonic()))
            if message[0] == "failed":
                raise RuntimeError(f"{message[1]} failed: {message[2]}")
            done.append(message)
    finally:
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    fakes.send("stats")
    stats = fakes.recv()
    started = min(m[2] for m in done)
    ended = max(m[3] for m in done)
    summaries = [m[4] for m in done]
    return {
        "label": label,
        "wall": ended - started,
        "stats": stats,
        "summaries": summaries,
    }


def report(result: dict[str, Any], setup: Setup) -> None:
    ideal = setup.locations / setup.rate
    stats, summaries = result["stats"], result["summaries"]
    fetched = sum(s["fetched"] for s in summaries)
    posted = sum(s["posted"] for s in summaries)
    split = " + ".join(str(s["fetched"]) for s in summaries)
    due = len(range(0, setup.locations, setup.lapsing_every))
    print(f"\n{result['label']}")
    print(
        f"  wall time        {result['wall']:6.2f} s   ideal N/rate {ideal:.2f} s   "
        f"ratio {result['wall'] / ideal:.3f}"
    )
    print(
        f"  Altegio          {stats['requests']} requests, {stats['refused_429']} answered 429, "
        f"busiest second {stats['max_per_second']}/{setup.rate:g}; fetched {fetched} ({split})"
    )
    if stats["refused_at"]:
        at = ", ".join(f"{t:.2f}" for t in stats["refused_at"][:8])
        more = len(stats["refused_at"]) - 8
        print(f"  429s at          {at}{f' … and {more} more' if more > 0 else ''} s")
    print(f"  Altegio span     {stats['last'] - stats['first']:6.2f} s from first to last request")
    print(
        f"  Slack            {posted} alerts posted for {due} due "
        f"({stats['posted']} accepted, {stats['distinct_alerts']} distinct)"
    )
    for s in summaries:
        print(
            f"    sweeper: {s['fetched']:4d} fetched, {s['elsewhere']:4d} left to the other, "
            f"{s['posted']:4d} posted in {s['seconds']:.2f} s"
        )


def _redis_reachable(url: str | None) -> bool:
    if not url:
        return False
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--lapsing-every", type=int, default=4)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL server to make schemas in (default: SQLite files)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--unshared", action="store_true", help="also two unshared sweepers")
    args = parser.parse_args()
    setup = Setup(args.locations, args.rate, args.latency, args.lapsing_every)
    for url in (args.database_url, args.redis_url):
        if url and "127.0.0.1" not in url and "localhost" not in url:
            parser.error(f"{url} is not on loopback: the bench talks to 127.0.0.1 only")

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    fakes_process = ctx.Process(target=_fakes_main, args=(child, setup), daemon=True)
    fakes_process.start()
    if not parent.poll(30):
        raise SystemExit("the fakes did not start within 30 s")
    urls = parent.recv()
    database = args.database_url or "SQLite"
    print(
        f"sweep bench: {setup.locations} watched locations, {CHANNELS} channels, "
        f"fake Altegio at {setup.rate:g}/s with {setup.latency * 1000:.0f} ms answers; "
        f"database {database.split('?')[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as workdir:
        databases = Databases(args.database_url, Path(workdir))
        try:
            common = {"setup": setup, "fakes": parent, "urls": urls, "databases": databases}
            report(run("one sweeper", sweepers=1, redis_url=None, **common), setup)
            if _redis_reachable(args.redis_url):
                shared = run(
                    "two sweepers, limit shared through Redis",
                    sweepers=2,
                    redis_url=args.redis_url,
                    **common,
                )
                report(shared, setup)
            else:
                print(f"\ntwo sweepers sharing the limit: skipped, no Redis at {args.redis_url}")
            if args.unshared:
                report(
                    run(
                        "two sweepers, each pacing only itself",
                        sweepers=2,
                        redis_url=None,
                        **common,
                    ),
                    setup,
                )
        finally:
            databases.drop_all()
            parent.send("stop")
            fakes_process.join(timeout=10)
            if fakes_process.is_alive():
                fakes_process.terminate()


if __name__ == "__main__":
    main()
