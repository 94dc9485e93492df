"""Ack latency and throughput of `/license` against a bare Bolt app, and single-flight lookups.

    python bench/commands.py [--count 2000] [--concurrency 16] [--rounds 3]

Starts the fake Altegio and fake Slack (tests/fakes), then `altegio-bot serve` and a bare Bolt
AsyncApp that only acks (bench/bare_bolt.py) as real subprocesses under the same uvicorn
settings, all on 127.0.0.1. It sends pre-signed `/license 4523464` slash commands with a warm
licence cache and prints p50/p99 ack latency and requests per second for both (rounds
alternate between the two; the median round counts), how long the bot took to deliver every
answer to its response_url, and how many Altegio calls 50 concurrent identical lookups of a
licence nobody has asked for yet cost. Stops by itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    LoadResult,
    Served,
    Signed,
    clean_env,
    ms,
    run_load,
    serve_bare_bolt,
    serve_bot,
)
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for
from tests.fakes.signing import slash_command

WARM_ID, COLD_ID = 4523464, 4523465
WARM_CARD = f"Location {WARM_ID}"
# The goal: the bot's work after the ack must not cost Slack's request noticeably.
P50_LIMIT, RPS_FLOOR = 1.2, 0.8


@dataclass
class Round:
    load: LoadResult
    answered_in: float | None = None  # seconds from the first request to the last answer
    cpu: float | None = None  # server CPU seconds per command, answers included


def license_commands(slack: FakeSlack, location_id: int, count: int) -> list[Signed]:
    return [
        slash_command("/license", str(location_id), response_url=slack.response_url())
        for _ in range(count)
    ]


def answered(
    slack: FakeSlack, requests: list[Signed], since: float, timeout: float, expect: str
) -> float:
    """Wait until every request's response_url got its answer; seconds from `since` to the last.

    Every answer must contain `expect`: a bot that answered with errors would look fast.
    """
    paths = {_response_path(body) for body, _ in requests}
    deadline = time.monotonic() + timeout
    while True:
        posts = [r for r in slack.requests("/response/") if r.path in paths]
        if len(posts) >= len(paths):
            wrong = [r.json for r in posts if expect not in json.dumps(r.json)]
            if wrong:
                raise RuntimeError(f"{len(wrong)} answers lack {expect!r}, e.g. {wrong[0]}")
            return max(r.started for r in posts) - since
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(posts)} of {len(paths)} answers within {timeout:.0f} s")
        time.sleep(0.05)


def _response_path(body: bytes) -> str:
    from urllib.parse import parse_qs, urlsplit

    return urlsplit(parse_qs(body.decode())["response_url"][0]).path


def single_flight(bot: Served, slack: FakeSlack, altegio: FakeAltegio, lookups: int) -> int:
    """Altegio calls made by `lookups` concurrent identical `/license` commands, cache cold."""
    requests = license_commands(slack, COLD_ID, lookups)
    load = run_load(bot.url, requests, concurrency=lookups)
    if load.failed:
        raise RuntimeError(f"{load.failed} of {lookups} lookups were not acked: {load.statuses}")
    answered(slack, requests, load.started, timeout=30, expect=f"Location {COLD_ID}")
    return len(altegio.requests(f"/license/{COLD_ID}"))


def measure(server: Served, requests: list[Signed], concurrency: int) -> LoadResult:
    load = run_load(server.url, requests, concurrency)
    if load.failed:
        raise RuntimeError(f"{server.name}: {load.failed} requests failed: {dict(load.statuses)}")
    return load


def median_round(rounds: list[Round]) -> Round:
    """The round with the median throughput (its own p50/p99 go with it)."""
    ordered = sorted(rounds, key=lambda r: r.load.rps)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description="Ack latency and throughput of /license.")
    parser.add_argument("--count", type=int, default=2000, help="commands per measured round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per app")
    parser.add_argument("--warmup", type=int, default=400, help="unmeasured commands per app")
    parser.add_argument("--lookups", type=int, default=50, help="concurrent cold lookups")
    args = parser.parse_args()

    with (
        FakeAltegio() as altegio,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory(prefix="altegio-bench-") as tmp,
    ):
        altegio.add_license(WARM_ID, days_left=5, options=[{"id": 1, "title": "Online booking"}])
        altegio.add_license(COLD_ID, plan="Business", days_left=200)
        workdir = Path(tmp)
        env = clean_env(
            {**settings_for(altegio, slack), "database_url": f"sqlite:///{workdir / 'bot.db'}"}
        )
        with serve_bot(env, workdir) as bot, serve_bare_bolt(env, workdir) as bare:
            calls = single_flight(bot, slack, altegio, args.lookups)

            for server in (bare, bot):
                warm = license_commands(slack, WARM_ID, args.warmup)
                load = measure(server, warm, args.concurrency)
                if server is bot:
                    answered(slack, warm, load.started, timeout=60, expect=WARM_CARD)
            calls_before = len(altegio.requests(f"/license/{WARM_ID}"))

            results: dict[str, list[Round]] = {bare.name: [], bot.name: []}
            for index in range(args.rounds):
                # Alternate which app goes first, so drift on a shared machine hits both alike.
                order = (bare, bot) if index % 2 == 0 else (bot, bare)
                for server in order:
                    requests = license_commands(slack, WARM_ID, args.count)
                    cpu_before = server.cpu_seconds()
                    load = measure(server, requests, args.concurrency)
                    done = None
                    if server is bot:
                        done = answered(
                            slack, requests, load.started, timeout=120, expect=WARM_CARD
                        )
                    cpu_after = server.cpu_seconds()
                    cpu = None
                    if cpu_before is not None and cpu_after is not None:
                        cpu = (cpu_after - cpu_before) / args.count
                    results[server.name].append(Round(load, done, cpu))
            warm_calls = len(altegio.requests(f"/license/{WARM_ID}")) - calls_before
            bot_rss = bot.peak_rss_kib()

    report(args, results, calls, warm_calls, bot_rss)


def report(
    args: argparse.Namespace,
    results: dict[str, list[Round]],
    calls: int,
    warm_calls: int,
    bot_rss: int | None,
) -> None:
    print(
        f"/license {WARM_ID}, warm cache: {args.count} signed commands per round, "
        f"concurrency {args.concurrency}, {args.rounds} round(s) per app, the median shown"
    )
    print(f"{'':12}{'ack p50':>10}{'ack p99':>10}{'req/s':>9}{'CPU/cmd':>10}   rounds (req/s)")
    chosen: dict[str, Round] = {}
    for name, rounds in results.items():
        best = chosen[name] = median_round(rounds)
        each = ", ".join(f"{r.load.rps:.0f}" for r in rounds)
        cpu = ms(best.cpu) if best.cpu is not None else "-"
        print(
            f"{name:12}{ms(best.load.p50):>10}{ms(best.load.p99):>10}{best.load.rps:>9.0f}"
            f"{cpu:>10}   {each}"
        )
    bot, bare = chosen["bot"], chosen["bare-bolt"]
    if bot.answered_in is not None:
        print(
            f"bot answers: all {args.count} delivered to response_url "
            f"{bot.answered_in:.2f} s after the first command "
            f"({args.count / bot.answered_in:.0f}/s); Altegio calls while warm: {warm_calls}"
        )
    if bot_rss is not None:
        print(f"bot peak memory: {bot_rss / 1024:.0f} MiB")
    p50_ratio = bot.load.p50 / bare.load.p50
    rps_ratio = bot.load.rps / bare.load.rps
    ok = p50_ratio <= P50_LIMIT and rps_ratio >= RPS_FLOOR
    print(
        f"bot / bare: p50 {p50_ratio:.2f}x (goal <= {P50_LIMIT}x), "
        f"throughput {rps_ratio:.2f}x (goal >= {RPS_FLOOR}x): {'met' if ok else 'MISSED'}"
    )
    print(f"{args.lookups} concurrent identical lookups, cold cache: {calls} Altegio call(s)")
    print(
        f"median of rounds: bot p50 {ms(statistics.median(r.load.p50 for r in results['bot']))}, "
        f"bare p50 {ms(statistics.median(r.load.p50 for r in results['bare-bolt']))}"
    )


if __name__ == "__main__":
    main()
