"""`altegio-bot serve` as a real process: health, signed commands, the 3-second rule, SIGTERM."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.storage import generate_key
from tests.cli.support import ServedCli, assert_one_paragraph, run
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.signing import slash_command


@pytest.fixture
def served(fake_settings: dict[str, str], tmp_path: Path) -> Iterator[ServedCli]:
    settings = {**fake_settings, "database_url": f"sqlite:///{tmp_path / 'bot.db'}"}
    server = ServedCli(settings, tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def post(server: ServedCli, signed: tuple[bytes, dict[str, str]]) -> tuple[httpx.Response, float]:
    body, headers = signed
    began = time.monotonic()
    response = httpx.post(server.url, content=body, headers=headers, timeout=10)
    return response, time.monotonic() - began


def test_healthz_answers_ok(served: ServedCli) -> None:
    response = httpx.get(served.base_url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "status": "ok", "database": "ok"}


def test_a_signed_license_command_is_acked_and_answered_through_the_fakes(
    served: ServedCli, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464, plan="Business", days_left=200)
    url = fake_slack.response_url()
    response, _ = post(served, slash_command("/license", "4523464", response_url=url))
    assert response.status_code == 200
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
    assert reply["response_type"] == "ephemeral"
    assert "Location 4523464" in str(reply["blocks"]) and "Business" in str(reply["blocks"])

    forged, _ = post(served, slash_command("/license", "4523464", secret="wrong", response_url=url))
    assert forged.status_code == 401
    assert len(fake_altegio.requests("/license/")) == 1


def test_the_ack_beats_slacks_three_seconds_when_altegio_takes_three(
    served: ServedCli, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464)
    fake_altegio.delay(3, "/license/")
    url = fake_slack.response_url()
    response, took = post(served, slash_command("/license", "4523464", response_url=url))
    assert response.status_code == 200
    assert took < 2.5
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=15)
    assert "Location 4523464" in str(reply["blocks"])


def test_sigterm_lets_acked_commands_answer_then_exits_cleanly(
    served: ServedCli, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(4523464)
    fake_altegio.delay(1.5, "/license/")
    url = fake_slack.response_url()
    response, _ = post(served, slash_command("/license", "4523464", response_url=url))
    assert response.status_code == 200
    fake_altegio.wait_for_requests(1, path="/license/", timeout=5)  # the work is under way

    assert served.stop() == 0
    (reply,) = fake_slack.responses(url)  # sent before the process ended
    assert "Location 4523464" in str(reply["blocks"])
    log = served.log()
    assert "Traceback" not in log and "stopped" in log


@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "without-key"])
def test_an_unreachable_database_at_start_is_one_paragraph_and_exit_code_2(
    tmp_path: Path, fake_settings: dict[str, str], with_key: bool
) -> None:
    settings = {**fake_settings, "database_url": "postgresql://postgres@127.0.0.1:1/x"}
    if with_key:
        settings["bot_encryption_key"] = generate_key()
    began = time.monotonic()
    finished = run(["serve", "--host", "127.0.0.1", "--port", "0"], cwd=tmp_path, settings=settings)
    assert finished.returncode == 2
    assert time.monotonic() - began < 30
    assert_one_paragraph(finished.stderr)
    assert "altegio-bot cannot start: " in finished.stderr
    if with_key:
        assert "Cannot open the database postgresql" in finished.stderr
        assert "127.0.0.1" in finished.stderr
    else:
        assert "BOT_ENCRYPTION_KEY is not set" in finished.stderr


def test_two_workers_answer_on_one_port_and_stop_cleanly_on_sigterm(
    fake_settings: dict[str, str], tmp_path: Path, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    settings = {**fake_settings, "database_url": f"sqlite:///{tmp_path / 'bot.db'}"}
    server = ServedCli(settings, tmp_path, "--workers", "2")
    try:
        server.wait_ready()
        fake_altegio.add_license(4523464, plan="Business", days_left=200)
        fake_altegio.delay(1.0, "/license/")
        urls = [fake_slack.response_url() for _ in range(4)]
        for url in urls:
            response, took = post(server, slash_command("/license", "4523464", response_url=url))
            assert response.status_code == 200 and took < 2.5
        for url in urls:
            (reply,) = fake_slack.wait_for_response_sync(url, timeout=15)
            assert "Location 4523464" in str(reply["blocks"])
        deadline = time.monotonic() + 20
        while server.log().count("serving Slack requests") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        code = server.stop()
    log = server.log()
    assert log.count("serving Slack requests") == 2  # each worker serves
    assert "without REDIS_URL" in log  # and takes half the rate
    assert code == 0 and "Traceback" not in log and log.count("stopped") >= 2
