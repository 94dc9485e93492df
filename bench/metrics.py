"""What counting costs per request: the ack's metrics and one Altegio call's, in microseconds.

    python -m bench.metrics [--count 200000]

Set PROMETHEUS_MULTIPROC_DIR to an empty directory to measure multiprocess mode (values go to
memory-mapped files there instead of process memory).
"""

from __future__ import annotations

import argparse
import os
import time

from bot import metrics


def per_call(count: int, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(count):
        work()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args()
    body = {"command": "/license", "text": "4523464", "team_id": "T1"}
    observer = metrics.AltegioMetrics()

    def ack() -> None:
        metrics.observe_ack(metrics.request_kind(body), 0.004)

    def altegio() -> None:
        observer.on_call("license", 200, 0.12)
        observer.on_cache("licence", False)

    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single process"
    print(f"metrics cost ({mode}, {args.count} calls each)")
    print(f"  a Slack request's ack metrics: {per_call(args.count, ack):6.2f} µs")
    print(f"  an Altegio call + cache lookup: {per_call(args.count, altegio):6.2f} µs")


if __name__ == "__main__":
    main()
