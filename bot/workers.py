"""`serve`'s processes: one, or several workers answering on one port.

With `--workers N` (or WEB_CONCURRENCY) the parent binds the port once and starts N worker
processes that all accept on that socket, as uvicorn's own supervisor does; the kernel hands each
connection to one of them. Every worker opens its own Runtime (store, Altegio client, Slack
session). They share Altegio's budget through Redis when REDIS_URL is set; without it each takes
an equal share of the rate, so together they stay within Altegio's limit.

SIGTERM (or SIGINT) is passed to every worker, each finishes the replies it acked (as a single
`serve` does) and the parent exits 0 once they all have. A worker that dies is replaced; one that
cannot start (exit 2) stops the whole server with its message.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from bot import metrics
from bot.runtime import Runtime, StartupError
from bot.settings import Settings

log = logging.getLogger("altegio.bot")


async def serving(
    settings: Settings,
    *,
    host: str,
    port: int,
    finish_seconds: float,
    sock: socket.socket | None = None,
    share: float = 1.0,
) -> None:
    """One process's whole life: open, serve until a signal, finish acked work, close."""
    from bot.server import finish_acked_work, serve

    runtime = await Runtime.open(settings, share=share)
    # What start-up made (modules, the app, its clients: over 100,000 objects) lives as long
    # as the process. Frozen, it is left out of the garbage collector's full passes, each of
    # which otherwise stopped the event loop for 50-90 ms about every 1,400 commands.
    gc.collect()
    gc.freeze()
    runtime.start_housekeeping()
    try:
        await serve(runtime, host=host, port=port, sock=sock)
        await runtime.stop_housekeeping()  # not work to finish: it only waits for its next run
        await finish_acked_work(finish_seconds)
    finally:
        await runtime.close()
    log.info("stopped")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(
    setup: Callable[[], Settings],
    sock: socket.socket,
    host: str,
    port: int,
    share: float,
    finish_seconds: float,
) -> None:
    from bot.server import loop_factory

    settings = setup()  # settings and logging, as the parent read them from the environment
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(
                serving(
                    settings,
                    host=host,
                    port=port,
                    finish_seconds=finish_seconds,
                    sock=sock,
                    share=share,
                )
            )
    except StartupError as exc:
        print(f"altegio-bot cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


def serve_workers(
    setup: Callable[[], Settings],
    settings: Settings,
    workers: int,
    *,
    host: str,
    port: int,
    finish_seconds: float,
) -> int:
    """Run `workers` processes on one port until SIGTERM; the exit code for the command.

    `setup` (a module-level function: it is sent to each worker) reads the settings and sets up
    logging in a worker."""
    share = 1.0
    if not settings.redis_url:
        share = 1.0 / workers
        log.warning(
            "%d workers without REDIS_URL: each paces itself at 1/%d of the Altegio rate "
            "limit; set REDIS_URL to share one budget (and its priorities) between them",
            workers,
            workers,
        )
    # Each worker counts into files of its own in one directory, and a scrape of any worker adds
    # them all up. The workers are spawned, so they start with the variable this sets.
    made = metrics.use_multiprocess_dir(workers)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> Any:
        process = context.Process(
            target=_worker,
            args=(setup, sock, host, bound, share, finish_seconds),
            name=f"altegio-bot-worker-{index}",
        )
        process.start()
        return process

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    processes = [start(i) for i in range(workers)]
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    log.info("serving with %d workers on http://%s:%s/slack/events", workers, host, bound)
    code = 0
    try:
        while not stopping:
            wait([p.sentinel for p in processes], timeout=0.5)
            for index, process in enumerate(processes):
                if stopping or process.is_alive():
                    continue
                if process.exitcode == 2:  # cannot start: the others cannot either
                    code = 2
                    stop(signal.SIGTERM, None)
                    break
                log.warning("worker %d exited with %s; starting another", index, process.exitcode)
                processes[index] = start(index)
        for process in processes:
            process.join(finish_seconds + 10)
            if process.is_alive():
                process.kill()
                process.join()
            if code == 0 and process.exitcode != 0:
                code = 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    log.info("stopped all workers")
    return code
