"""The served bot as an operator sees it: the sandbox flag, /metrics scraped over HTTP, JSON logs
and the alert sweep's own metrics, each through the real `altegio-bot` command."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from bot.storage import generate_key, open_store
from tests.alerts.test_sweepers import cli_env, start_cli
from tests.cli.support import ServedCli, clean_env, free_port
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.signing import SIGNING_SECRET, TEAM_ID, slash_command
from tests.fakes.slack_workspace import BOT_TOKEN

METRICS_TOKEN = "scrape-token-4821"


def post(server: ServedCli, signed: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = signed
    return httpx.post(server.url, content=body, headers=headers, timeout=10)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    started: list[ServedCli] = []

    def start(settings: dict[str, str]) -> ServedCli:
        server = ServedCli(
            {"database_url": f"sqlite:///{tmp_path / 'bot.db'}", **settings}, tmp_path
        )
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from the exposition text, or None when it is absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if found == labels or (not labels and "{" not in line):
            return float(line.rsplit(" ", 1)[1])
    return None


# -- ALTEGIO_SANDBOX ---------------------------------------------------------------------------


def test_altegio_sandbox_serves_sample_data_without_a_partner_token_and_marks_every_reply(
    serve, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    server = serve(
        {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake_slack.api_url,
            "altegio_sandbox": "1",
        }
    )
    url = fake_slack.response_url()
    assert post(server, slash_command("/license", "4523464", response_url=url)).status_code == 200
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
    shown = json.dumps(reply)
    assert "Location 4523464" in shown and "Business" in shown
    assert reply["text"].startswith("[Sandbox data]")
    assert reply["blocks"][-1]["type"] == "context"
    assert "Sandbox data" in reply["blocks"][-1]["elements"][0]["text"]

    # A reply through the Web API (the login form) is marked too.
    post(server, slash_command("/altegio", "login", response_url=fake_slack.response_url()))
    (opened,) = fake_slack.wait_for_sync("views.open", timeout=10)
    assert "Sandbox data" in json.dumps(opened.args["view"]["blocks"][-1])

    assert fake_altegio.requests() == []  # the sandbox answered, in the bot's own process
    assert "ALTEGIO_SANDBOX is on" in server.log()


# -- /metrics ----------------------------------------------------------------------------------


def test_metrics_count_commands_acks_altegio_calls_and_the_cache_behind_a_token(
    serve, fake_settings: dict[str, str], fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464, plan="Business")
    server = serve({**fake_settings, "metrics_token": METRICS_TOKEN})
    for _ in range(2):
        url = fake_slack.response_url()
        post(server, slash_command("/license", "4523464", response_url=url))
        fake_slack.wait_for_response_sync(url, timeout=10)
    url = fake_slack.response_url()
    post(server, slash_command("/phone", "+44 20 7946 0958", response_url=url))
    fake_slack.wait_for_response_sync(url, timeout=10)

    metrics_url = server.base_url + "/metrics"
    assert httpx.get(metrics_url, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.get(metrics_url, headers=wrong, timeout=5).status_code == 401
    scraped = httpx.get(
        metrics_url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    )
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert sample(text, "altegio_bot_requests_total", kind="/license") == 2
    assert sample(text, "altegio_bot_requests_total", kind="/phone") == 1
    assert sample(text, "altegio_bot_ack_seconds_count", kind="/license") == 2
    assert sample(text, "altegio_bot_slow_acks_total", kind="/license") in (None, 0)
    assert sample(text, "altegio_bot_altegio_calls_total", endpoint="license", status="200") == 1
    assert (
        sample(
            text,
            "altegio_bot_altegio_calls_total",
            endpoint="validation/validate_phone",
            status="200",
        )
        == 1
    )
    assert sample(text, "altegio_bot_altegio_call_seconds_count", endpoint="license") == 1
    assert sample(text, "altegio_bot_cache_lookups_total", cache="licence", result="miss") == 1
    assert sample(text, "altegio_bot_cache_lookups_total", cache="licence", result="hit") == 1
    assert sample(text, "altegio_bot_rate_limiter_wait_seconds_count") == 2
    assert "4523464" not in text  # ids never become labels


def test_metrics_in_multiprocess_mode_add_up_what_the_workers_wrote(
    serve,
    fake_settings: dict[str, str],
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    fake_altegio.add_license(4523464)
    # Another worker process counts five /license commands into the same directory.
    script = "from bot import metrics; metrics.REQUESTS.labels('/license').inc(5)"
    env = clean_env({"prometheus_multiproc_dir": str(shared)})
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)  # noqa: S603
    server = serve({**fake_settings, "prometheus_multiproc_dir": str(shared)})
    url = fake_slack.response_url()
    post(server, slash_command("/license", "4523464", response_url=url))
    fake_slack.wait_for_response_sync(url, timeout=10)
    text = httpx.get(server.base_url + "/metrics", timeout=5).text
    assert sample(text, "altegio_bot_requests_total", kind="/license") == 6


def counted_by_each_worker(tmp: Path) -> dict[str, float]:
    """/license requests each worker has counted, read from its own files (by process id) in the
    directory `serve --workers` made under TMPDIR."""
    (shared,) = tmp.glob("altegio-bot-metrics-*")
    counted: dict[str, float] = {}
    for file in shared.glob("counter_*.db"):
        pid = file.stem.removeprefix("counter_")
        alone = tmp / f"one-worker-{pid}"
        shutil.rmtree(alone, ignore_errors=True)
        alone.mkdir()
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        value = registry.get_sample_value("altegio_bot_requests_total", {"kind": "/license"})
        if value:
            counted[pid] = value
    return counted


def test_two_workers_count_into_metrics_that_any_scrape_adds_up(
    fake_settings: dict[str, str], tmp_path: Path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464, plan="Business")
    temp = tmp_path / "tmp"
    temp.mkdir()
    settings = {
        **fake_settings,
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "tmpdir": str(temp),  # where serve makes the workers' metrics directory
    }
    server = ServedCli(settings, tmp_path, "--workers", "2")

    def command() -> None:
        url = fake_slack.response_url()
        body, headers = slash_command("/license", "4523464", response_url=url)
        # A connection of its own each time: the kernel hands each to either worker.
        assert httpx.post(server.url, content=body, headers=headers, timeout=10).status_code == 200
        fake_slack.wait_for_response_sync(url, timeout=15)

    sent = 0
    try:
        server.wait_ready()
        with ThreadPoolExecutor(4) as pool:
            # Until both workers have answered some: a few bursts, however the kernel deals.
            while len(counted_by_each_worker(temp)) < 2:
                assert sent < 400, (
                    f"every command went to one worker: {counted_by_each_worker(temp)}"
                )
                list(pool.map(lambda _: command(), range(4)))
                sent += 4
        per_worker = counted_by_each_worker(temp)
        assert sum(per_worker.values()) == sent
        for _ in range(3):  # whichever worker answers the scrape, it counts both
            text = httpx.get(server.base_url + "/metrics", timeout=5).text
            assert sample(text, "altegio_bot_requests_total", kind="/license") == sent
            assert sample(text, "altegio_bot_ack_seconds_count", kind="/license") == sent
    finally:
        code = server.stop()
    assert code == 0, server.log()
    assert list(temp.glob("altegio-bot-metrics-*")) == []  # removed once the workers stopped


# -- LOG_FORMAT=json ---------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_request_workspace_and_user(
    serve, fake_settings: dict[str, str], fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464)
    server = serve({**fake_settings, "log_format": "json", "log_level": "INFO"})
    url = fake_slack.response_url()
    post(server, slash_command("/license", "4523464", response_url=url))
    fake_slack.wait_for_response_sync(url, timeout=10)
    time.sleep(0.2)
    lines = [line for line in server.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    call = next(e for e in entries if e["message"].startswith("altegio GET license/4523464"))
    assert call["level"] == "INFO" and call["logger"] == "altegio.api"
    assert call["workspace"] == TEAM_ID and call["user"] == "U0USER"
    assert call["request_id"] not in ("", "-")
    assert call["event"]["status"] == 200 and call["event"]["method"] == "GET"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", call["time"])
    for secret in (fake_settings["altegio_partner_token"], fake_settings["slack_bot_token"]):
        assert secret not in server.log()


# -- the alert sweep ---------------------------------------------------------------------------


async def test_the_sweep_writes_its_metrics_to_a_textfile_and_serves_them_every_interval(
    tmp_path: Path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    database_url, key = f"sqlite:///{tmp_path / 'bot.db'}", generate_key()
    store = await open_store(database_url, key)
    try:
        fake_altegio.add_license(4523464, days_left=3)
        await store.add_watch(TEAM_ID, "C0OPS", 4523464, "U0USER")
    finally:
        await store.close()
    textfile = tmp_path / "sweep.prom"
    once = start_cli(
        cli_env(database_url, key, fake_altegio, fake_slack, metrics_textfile=str(textfile))
    )
    _, err = await asyncio.to_thread(once.communicate, timeout=60)
    assert once.returncode == 0, err
    text = textfile.read_text()
    assert sample(text, "altegio_bot_alerts_total", outcome="posted") == 1
    assert sample(text, "altegio_bot_sweeps_total", outcome="ok") == 1
    assert sample(text, "altegio_bot_sweep_duration_seconds_count") == 1

    port = free_port()
    clock = start_cli(
        cli_env(database_url, key, fake_altegio, fake_slack, metrics_port=port), "--every", "1s"
    )
    try:
        scraped = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                async with httpx.AsyncClient() as http:
                    scraped = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=2)).text
            except httpx.TransportError:
                scraped = ""
            if (sample(scraped, "altegio_bot_sweeps_total", outcome="ok") or 0) >= 2:
                break
            await asyncio.sleep(0.2)
        # Already posted by the first run: each later sweep skips it.
        assert (sample(scraped, "altegio_bot_sweeps_total", outcome="ok") or 0) >= 2, scraped
        assert sample(scraped, "altegio_bot_alerts_total", outcome="posted") == 0
    finally:
        clock.terminate()
        await asyncio.to_thread(clock.communicate, timeout=30)
