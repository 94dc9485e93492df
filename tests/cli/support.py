"""Run the real `altegio-bot` command in a subprocess with a clean environment.

The console script is used when it is installed beside this interpreter (as the README installs
it), else `python -m bot.cli`, which runs the same `main`. Each run gets only PATH, PYTHONPATH
and the settings it is given, in a working directory without a `.env` file unless a test writes
one, so nothing from the developer's environment leaks in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def cli() -> list[str]:
    script = Path(sys.executable).with_name("altegio-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_env(settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.update({k.upper(): str(v) for k, v in (settings or {}).items()})
    return env


def run(
    args: list[str],
    *,
    cwd: Path,
    settings: Mapping[str, Any] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [*cli(), *args],
        cwd=cwd,
        env=clean_env(settings),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_paragraph(text: str) -> None:
    """What a person reads when the bot refuses to start: no traceback, no blank lines."""
    assert "Traceback" not in text, text
    assert text.strip(), "nothing was printed"
    assert "\n\n" not in text.strip(), text


class ServedCli:
    """`altegio-bot serve` on an ephemeral 127.0.0.1 port until `stop()` sends SIGTERM."""

    def __init__(self, settings: Mapping[str, Any], cwd: Path, *args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/slack/events"
        self.log_path = cwd / "serve.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [*cli(), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            cwd=cwd,
            env=clean_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(self.base_url + "/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"serve did not answer within {timeout} s:\n{self.log()}")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")
