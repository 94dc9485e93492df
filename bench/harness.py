"""What every bench needs: servers as real subprocesses, and a load client in its own process.

Everything runs on 127.0.0.1 and stops by itself. The load client is aiohttp (httpx costs far
more CPU per request than the servers it would measure) and runs in a separate process, so its
own work does not share a GIL with the fakes that the bench runs in its main process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (body, headers) of one pre-signed request, as tests.fakes.signing builds them.
Signed = tuple[bytes, dict[str, str]]

# Passed on to servers from the bench's own environment; nothing else leaks in.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(settings: Mapping[str, str]) -> dict[str, str]:
    """A server's whole environment: the given settings (upper-cased) and little else."""
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k.upper(): str(v) for k, v in settings.items()})
    return env


class Served:
    """A server subprocess on `port`, ready once GET /healthz answers 200; SIGTERM stops it."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], port: int, workdir: Path
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.url = f"{self.base_url}/slack/events"
        self.log_path = workdir / f"{name}.log"
        self._argv = list(argv)
        self._env = dict(env)
        self._workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self._argv,
                env=self._env,
                cwd=self._workdir,  # no stray .env file is read
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def _pids(self) -> list[int]:
        """The process and its children (the workers of `serve --workers N`), recursively."""
        if self.process is None:
            return []
        pids, seen = [self.process.pid], 0
        while seen < len(pids):
            pid = pids[seen]
            seen += 1
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            pids += [int(child) for child in children]
        return pids

    def peak_rss_kib(self) -> int | None:
        """Peak resident memory so far (Linux), summed over the process and its workers."""
        total = None
        for pid in self._pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total = (total or 0) + int(line.split()[1])
        return total

    def cpu_seconds(self) -> float | None:
        """User and system CPU time used so far (Linux), all threads, the workers included
        (a worker's time counts while it runs; `serve`'s workers run until the server stops)."""
        total = None
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total = (total or 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def serve_bot(env: Mapping[str, str], workdir: Path, *, workers: int = 1) -> Served:
    """`altegio-bot serve` exactly as an operator runs it (through `python -m bot.cli`)."""
    port = free_port()
    argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Served("bot", [*argv, "--workers", str(workers)], env, port, workdir)


def serve_bare_bolt(env: Mapping[str, str], workdir: Path, *, mix: bool = False) -> Served:
    """The baseline: a Bolt AsyncApp that only acks (`/license`, or with `mix` the load's whole
    mix), under the bot's uvicorn settings."""
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), "--port", str(port)]
    return Served("bare-bolt", argv + (["--mix"] if mix else []), env, port, workdir)


# -- load ----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: list[float]  # seconds, one per request, sorted
    started: float  # time.monotonic() (comparable across processes on Linux)
    finished: float
    statuses: Counter[int] = field(default_factory=Counter)
    # Per request, in the order given: (sent at, time.monotonic(); latency; HTTP status or 0).
    each: list[tuple[float, float, int]] = field(default_factory=list)

    def part(self, indexes: Iterable[int]) -> LoadResult:
        """The figures of some of the requests (one kind of a mix), over the same run."""
        chosen = [self.each[i] for i in indexes]
        return LoadResult(
            sorted(latency for _, latency, _ in chosen),
            self.started,
            self.finished,
            Counter(status for _, _, status in chosen),
            chosen,
        )

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, in seconds."""
        values = self.latencies
        rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
        return values[rank]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


def run_load(url: str, requests: Sequence[Signed], concurrency: int) -> LoadResult:
    """POST every request, `concurrency` at a time, from a fresh process; blocks until done."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_load_in_process, url, list(requests), concurrency).result()


def _load_in_process(url: str, requests: list[Signed], concurrency: int) -> LoadResult:
    return asyncio.run(_load(url, requests, concurrency))


async def _load(url: str, requests: list[Signed], concurrency: int) -> LoadResult:
    import aiohttp

    each: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(requests)
    pending = iter(enumerate(requests))
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for index, (body, headers) in pending:
                sent_at, began = time.monotonic(), time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                each[index] = (sent_at, time.perf_counter() - began, status)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        finished = time.monotonic()
    latencies = sorted(latency for _, latency, _ in each)
    statuses = Counter(status for _, _, status in each)
    return LoadResult(latencies, started, finished, statuses, each)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
