"""Memory of the served bot under simultaneous large photo shares.

    python bench/photos.py [--shares 200] [--megabytes 10] [--photo-concurrency 4]

Starts the fake Altegio and fake Slack (tests/fakes) and `altegio-bot serve` as a real
subprocess, all on 127.0.0.1. Links a few Slack users through the login form, then sends
`shares` photo-share events at once, each a JPEG of `megabytes` MB hosted by the fake Slack,
and waits until every one is uploaded to the fake Altegio and answered in its thread.

A share the bot refuses (503: more requests at once than MAX_CONCURRENT_REQUESTS) is delivered
again as Slack does, up to three times with X-Slack-Retry-Num; the bench waits only for the shares
the bot accepted, so a refusal is counted, never waited for.

Printed: shares, how many were completed (answered in their thread and reacted to) and refused
(first deliveries and retries), how long they took, the bot's resident memory at the start and at
its peak, and what the photos alone would hold if they were all in memory at once. Exits with
status 1 if any photo was not uploaded exactly once with its bytes. Stops by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from bench.harness import clean_env, run_load, serve_bot
from bench.load import JPEG_END, JPEG_START, link_sharers
from bench.sweep import Databases
from bot.storage import generate_key
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for
from tests.fakes.records import RecordedRequest
from tests.fakes.signing import event_callback, message_event


class LeanAltegio(FakeAltegio):
    """The fake Altegio, keeping a digest of each upload instead of its bytes (200 × 10 MB
    kept would measure the bench, not the bot)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digests: list[str] = []

    def after(self, request: web.Request, record: RecordedRequest) -> None:
        super().after(request, record)
        record.body = b""
        record.files = {}
        for stored in self.uploads:
            if stored.content:
                self.digests.append(hashlib.sha256(stored.content).hexdigest())
                stored.content = b""


SLACK_RETRIES = 3  # Slack delivers an event up to three more times when it is not acked


def mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", type=int, default=200)
    parser.add_argument("--megabytes", type=float, default=10)
    parser.add_argument("--photo-concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for answers")
    args = parser.parse_args()
    size = int(args.megabytes * 1024 * 1024)
    # One bytes object for every file: the fakes serve it without holding a copy per share.
    content = JPEG_START + bytes(size - len(JPEG_START) - len(JPEG_END)) + JPEG_END
    digest = hashlib.sha256(content).hexdigest()

    with (
        LeanAltegio() as altegio,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory(prefix="altegio-photos-") as tmp,
    ):
        workdir = Path(tmp)
        databases = Databases(None, workdir)
        settings = {
            **settings_for(altegio, slack),
            "database_url": databases.fresh(),
            "bot_encryption_key": generate_key(),
            "altegio_rate_limit": "100",
            "max_image_bytes": str(size + 1024),
            "photo_concurrency": str(args.photo_concurrency),
        }
        with serve_bot(clean_env(settings), workdir) as bot:
            at_start = bot.peak_rss_kib()
            sharers = link_sharers(bot, altegio, 8)
            events = []
            for n in range(args.shares):
                sharer = sharers[n % len(sharers)]
                file = slack.add_file(content, f"big-{n:04d}.jpg", user=sharer.user_id)
                event = message_event(
                    f"master {n + 1} location 4400001",
                    channel=f"C0BIG{n % 8}",
                    user=sharer.user_id,
                    ts=f"{1_700_000_000 + n}.000100",
                    files=[file],
                )
                events.append(event)
            ids = [f"EvBIG{n:06d}" for n in range(args.shares)]
            started = time.monotonic()
            load = run_load(
                bot.url,
                [event_callback(e, event_id=i) for e, i in zip(events, ids, strict=True)],
                args.shares,
            )
            refused = [n for n, (_, _, status) in enumerate(load.each) if status != 200]
            refusals, pending = len(refused), refused
            for retry in range(1, SLACK_RETRIES + 1):
                if not pending:
                    break
                time.sleep(1)  # Slack's own retries wait longer (a minute, then five)
                again = [
                    event_callback(
                        events[n], event_id=ids[n], retry_num=retry, retry_reason="http_error"
                    )
                    for n in pending
                ]
                result = run_load(bot.url, again, len(again))
                pending = [
                    n
                    for n, (_, _, status) in zip(pending, result.each, strict=True)
                    if status != 200
                ]
                refusals += len(pending)
            accepted = args.shares - len(pending)
            deadline = started + args.timeout
            while done(slack) < accepted and time.monotonic() < deadline:
                time.sleep(0.2)
            took = time.monotonic() - started
            completed = done(slack)
            peak = bot.peak_rss_kib()
        databases.drop_all()

    intact = sum(1 for d in altegio.digests if d == digest)
    print(f"load average {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(
        f"{args.shares} shares of {args.megabytes:g} MB at once, PHOTO_CONCURRENCY="
        f"{args.photo_concurrency}: completed {completed}, refused {len(refused)} at first "
        f"({refusals} deliveries refused in all, {len(pending)} never accepted), "
        f"uploaded intact {intact} (uploads {len(altegio.digests)}), elapsed {took:.1f} s"
    )
    print(
        f"bot RSS: {mib(at_start)} at start, {mib(peak)} at peak; the photos all held at once "
        f"would be {args.shares * size / 2**20:.0f} MiB"
    )
    ok = not pending and completed == intact == len(altegio.digests) == args.shares
    raise SystemExit(0 if ok else 1)


def done(slack: FakeSlack) -> int:
    """Shares answered: each gets one reaction (uploaded or not) once its files are done."""
    return len(slack.calls("reactions.add"))


if __name__ == "__main__":
    main()
