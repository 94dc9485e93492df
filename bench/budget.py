"""Altegio's budget: who waits how long at 5 a second and 200 a minute, and what a sweep costs.

    python -m bench.budget [--uploads 50] [--sweep 200] [--lookups 36] [--logins 12]
                           [--locations 100000] [--days 7]

1. Through the real AltegioClient and its limiter (priority lanes), against the fake Altegio
   enforcing 5 a second and 200 a minute (429 beyond either): a backlog of photo uploads and a
   sweep's licence fetches queued at the start, while people log in and look up licences
   throughout (each their own workspace and person). Printed: each lane's wait for a slot
   (p50 / p99 / max), the 429s the fake answered, the calls done each minute against the
   physical 200.
2. No HTTP: the sweep's schedule (sweep/policy.py) over a simulated clock with `--locations`
   watched locations, deactivation dates spread over the coming year, nine in ten renewed three
   days before they lapse, the rest left to expire. Hourly sweeps for a first day (every location
   new) and then `--days` more; printed: fetches per hourly sweep against Altegio's 12,000 an
   hour, why, and any mark alerted later than its day (there should be none).

Everything listens on 127.0.0.1 only; it stops by itself, in about four minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import AltegioClient, AltegioError  # noqa: E402
from api.lanes import Busy, LaneLimiter, lane  # noqa: E402
from api.ratelimit import TokenBucket  # noqa: E402
from handlers.store import LicenceSummary, Watch  # noqa: E402
from sweep.alerts import BUDGET_SHARE  # noqa: E402
from sweep.policy import Due, plan  # noqa: E402
from tests.fakes import FakeAltegio  # noqa: E402

PER_SECOND, PER_MINUTE = 5, 200
HOURLY_BUDGET = 12_000
JPEG = b"\xff\xd8\xff\xe0" + bytes(2048)
DAYS = (30, 7, 1)
RUN_DEADLINE = 300.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- 1. the lanes at Altegio's own limit ---------------------------------------------------------


class Statuses:
    def __init__(self) -> None:
        self.codes: Counter[int | None] = Counter()
        self.done: list[float] = []

    def on_call(self, endpoint: str, status: int | None, seconds: float) -> None:
        self.codes[status] += 1
        if status is not None and status < 400:
            self.done.append(time.monotonic())

    def on_cache(self, cache: str, hit: bool) -> None:
        pass


async def mixed(args: argparse.Namespace, fake: FakeAltegio) -> None:
    waits: dict[str, list[float]] = defaultdict(list)
    limiter = LaneLimiter(
        TokenBucket(PER_SECOND, per_minute=PER_MINUTE),
        observe=lambda name, seconds: waits[name].append(seconds),
    )
    statuses = Statuses()
    user = fake.add_user("manager@example.com", "secret")
    for i in range(args.sweep + args.lookups):
        fake.add_license(500_000 + i, days_left=10 + i % 300)
    busy: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    client = AltegioClient(fake.base_url, fake.partner_token, limiter=limiter, observer=statuses)
    calls = args.uploads + args.sweep + args.lookups + args.logins
    # People arrive evenly over the time the whole mix takes at the limit.
    span = calls / (PER_MINUTE * 0.95 / 60)

    async def guarded(kind: str, work) -> None:
        try:
            await work
        except Busy:
            busy[kind] += 1
        except AltegioError as error:
            errors[f"{kind}: {type(error).__name__}"] += 1

    async def upload(i: int) -> None:
        with lane("upload", (f"T{i % 3}", f"U{i}")):
            await client.upload_image(
                "master",
                company_id=500_000,
                entity_id=17,
                content=JPEG,
                filename=f"{i}.jpg",
                content_type="image/jpeg",
                user_token=user.user_token,
            )

    async def fetch(location_id: int) -> None:
        with lane("sweep"):
            await client.get_license(location_id)

    async def person(i: int, delay: float, login: bool) -> None:
        await asyncio.sleep(delay)
        key = (f"T{i % 4}", f"P{i}")
        if login:
            with lane("login", key):
                await client.authenticate("manager@example.com", "secret")
        else:
            with lane("interactive", key):
                await client.get_license(500_000 + args.sweep + i, user_token=user.user_token)

    started = time.monotonic()
    jobs = [guarded("upload", upload(i)) for i in range(args.uploads)]
    jobs += [guarded("sweep", fetch(500_000 + i)) for i in range(args.sweep)]
    jobs += [
        guarded("interactive", person(i, span * (i + 0.5) / args.lookups, False))
        for i in range(args.lookups)
    ]
    jobs += [
        guarded("login", person(1000 + i, span * (i + 0.3) / args.logins, True))
        for i in range(args.logins)
    ]
    async with asyncio.timeout(RUN_DEADLINE):
        await asyncio.gather(*jobs)
    elapsed = time.monotonic() - started
    await client.aclose()

    print(f"\n1. {calls} calls at {PER_SECOND}/s and {PER_MINUTE}/min, {elapsed:.0f} s")
    print("   lane          calls   wait p50   wait p99   wait max   busy")
    for name in ("login", "interactive", "upload", "sweep"):
        w = waits[name]
        print(
            f"   {name:<12} {len(w):6d} {pct(w, 0.5):9.2f}s {pct(w, 0.99):9.2f}s "
            f"{max(w, default=float('nan')):9.2f}s {busy[name]:6d}"
        )
    print(f"   429s answered by the fake: {statuses.codes[429]}; other errors: {dict(errors)}")
    per_minute = Counter(int((t - started) // 60) for t in statuses.done)
    full = [per_minute[m] for m in range(int(elapsed // 60))]
    print(
        f"   calls done per full minute: {full} (limit {PER_MINUTE}); overall "
        f"{len(statuses.done) / elapsed * 60:.0f}/min"
    )


# -- 2. the sweep's schedule over a simulated week -----------------------------------------------


def simulate(args: argparse.Namespace) -> None:
    rng = random.Random(13)
    start = datetime(2026, 3, 2, 0, 17).astimezone()
    n = args.locations
    interval, refresh = timedelta(hours=1), timedelta(days=args.refresh_days)
    # The truth at Altegio: deactivation date, and whether the licence is renewed.
    ends = {i: start.date() + timedelta(days=rng.randint(1, 365)) for i in range(n)}
    renews = {i: rng.random() < 0.9 for i in range(n)}
    watched = start - timedelta(days=30)
    by_location = {i: [Watch("T1", "C1", i, "U1", watched)] for i in range(n)}
    summaries: dict[tuple[str, int], LicenceSummary] = {}
    first_seen: dict[int, date] = {}
    sent: dict[int, tuple[date, set[str]]] = {}
    late = 0
    per_sweep: list[int] = []
    reasons: Counter[Due] = Counter()
    hours = (1 + args.days) * 24
    began = time.monotonic()
    for hour in range(hours):
        now = start + timedelta(hours=hour)
        today = now.date()
        for i, end in ends.items():  # renewals happen three days before the end
            if renews[i] and today >= end - timedelta(days=3):
                ends[i] = end + timedelta(days=365)
        p = plan(
            by_location,
            summaries,
            now=now,
            today=today,
            alert_days=DAYS,
            interval=interval,
            refresh=refresh,
            budget=None if args.unbounded else int(BUDGET_SHARE * HOURLY_BUDGET),
        )
        per_sweep.append(len(p.fetch))
        if hour >= 24:
            reasons.update(p.due)
        for i in p.fetch:
            end = ends[i]
            summaries["T1", i] = LicenceSummary("T1", i, end, True, now)
            first_seen.setdefault(i, today)
            period, kinds = sent.get(i, (end, set()))
            if period != end:
                period, kinds = end, set()
            marks = {f"days:{d}": end - timedelta(days=d) for d in DAYS}
            marks["expired"] = end + timedelta(days=1)
            for kind, day in marks.items():
                if day <= today and kind not in kinds:
                    kinds.add(kind)
                    if day > first_seen[i] and day != today:
                        late += 1
            sent[i] = (period, kinds)
    first_day, steady = per_sweep[:24], per_sweep[24:]
    print(
        f"\n2. the sweep's schedule: {n:,} watched locations, hourly sweeps, ALERT_REFRESH "
        f"{args.refresh_days:g} d{' (unbounded)' if args.unbounded else ''}, "
        f"simulated {1 + args.days} days in {time.monotonic() - began:.0f} s"
    )
    print(
        f"   first day (every location new): {sum(first_day):,} fetches, at most "
        f"{max(first_day):,} in one sweep ({max(first_day) / HOURLY_BUDGET:.0%} of an hour's "
        f"{HOURLY_BUDGET:,})"
    )
    mean = statistics.mean(steady)
    print(
        f"   then {args.days} days: {mean:,.0f} fetches per sweep on average, at most "
        f"{max(steady):,} ({mean / HOURLY_BUDGET:.1%} and {max(steady) / HOURLY_BUDGET:.1%} of "
        f"the hourly budget); fetching every location every sweep: {n:,}"
    )
    total = sum(reasons.values())
    print("   why: " + ", ".join(f"{r.value} {c / total:.0%}" for r, c in reasons.most_common()))
    expired = sum(1 for i in range(n) if not renews[i] and ends[i] < today)
    print(f"   expired by the end (fetched every sweep): {expired:,}")
    print(f"   marks alerted later than their day: {late}")
    oldest = max(now - s.fetched_at for s in summaries.values())
    print(f"   longest a licence went unfetched at the end: {oldest / timedelta(days=1):.1f} days")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--sweep", type=int, default=200)
    parser.add_argument("--lookups", type=int, default=36)
    parser.add_argument("--logins", type=int, default=12)
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--refresh-days", type=float, default=1.0)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--unbounded", action="store_true", help="refresh every licence within ALERT_REFRESH"
    )
    args = parser.parse_args()
    if not args.skip_http:
        with FakeAltegio(latency=0.05) as fake:
            fake.limit_rate(PER_SECOND, PER_MINUTE)
            asyncio.run(mixed(args, fake))
    simulate(args)


if __name__ == "__main__":
    main()
