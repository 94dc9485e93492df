"""Start-up refusals and `keygen`, through the real command in a clean environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.cli.support import assert_one_paragraph, run

REQUIRED = {
    "slack_bot_token": "xoxb-not-a-real-token-1234",
    "slack_signing_secret": "signing-secret-5678",
    "altegio_partner_token": "partner-token-9012",
}


@pytest.mark.parametrize("command", ["serve", "console", "socket"])
def test_missing_settings_are_named_in_one_paragraph_with_exit_code_2(
    tmp_path: Path, command: str
) -> None:
    finished = run([command], cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ALTEGIO_PARTNER_TOKEN"):
        assert f"{name} is not set" in finished.stderr
    assert "SLACK_APP_TOKEN" not in finished.stderr  # optional, so not asked for
    assert finished.stdout == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALTEGIO_RATE_LIMIT", "fast"),
        ("ALTEGIO_RATE_LIMIT", "0"),
        ("PORT", "70000"),
        ("ALERT_DAYS", "soon"),
        ("LOG_LEVEL", "chatty"),
        ("ALTEGIO_TIMEOUT", "-1"),
    ],
)
def test_a_malformed_setting_is_named_with_how_to_fix_it(
    tmp_path: Path, name: str, value: str
) -> None:
    finished = run(["serve"], cwd=tmp_path, settings={**REQUIRED, name: value})
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    assert f"{name} is not valid: set it to " in finished.stderr
    assert finished.stderr.count("is not valid") == 1
    for secret in REQUIRED.values():
        assert secret not in finished.stderr


def test_settings_are_read_from_a_dotenv_file_in_the_working_directory(tmp_path: Path) -> None:
    lines = [f"{k.upper()}={v}" for k, v in REQUIRED.items()] + ["PORT=not-a-port"]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    finished = run(["serve"], cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    assert "PORT is not valid" in finished.stderr
    assert "is not set" not in finished.stderr  # the three required ones came from .env


def test_keygen_prints_a_fresh_fernet_key_and_needs_no_settings(tmp_path: Path) -> None:
    first = run(["keygen"], cwd=tmp_path)
    second = run(["keygen"], cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert first.stdout == key + "\n"
    fernet = Fernet(key.encode())
    assert fernet.decrypt(fernet.encrypt(b"session")) == b"session"
    assert second.stdout.strip() != key


def test_no_subcommand_prints_usage_and_exits_2(tmp_path: Path) -> None:
    finished = run([], cwd=tmp_path)
    assert finished.returncode == 2
    assert "usage: altegio-bot" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_socket_mode_without_an_app_token_says_how_to_get_one(tmp_path: Path) -> None:
    finished = run(["socket"], cwd=tmp_path, settings=REQUIRED)
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    assert "SLACK_APP_TOKEN is not set" in finished.stderr
    assert "connections:write" in finished.stderr


def test_altegio_sandbox_needs_no_partner_token_but_still_the_slack_settings(
    tmp_path: Path,
) -> None:
    finished = run(["serve"], cwd=tmp_path, settings={"altegio_sandbox": "1"})
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    assert "SLACK_BOT_TOKEN is not set" in finished.stderr
    assert "ALTEGIO_PARTNER_TOKEN" not in finished.stderr

    finished = run(["serve"], cwd=tmp_path, settings={**REQUIRED, "altegio_sandbox": "maybe"})
    assert finished.returncode == 2
    assert "ALTEGIO_SANDBOX is not valid" in finished.stderr


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    finished = run(["serve"], cwd=tmp_path, settings={**REQUIRED, "log_format": "xml"})
    assert finished.returncode == 2
    assert "LOG_FORMAT is not valid: set it to text (the default) or json" in finished.stderr


OAUTH = {
    "slack_signing_secret": "signing-secret-5678",
    "altegio_partner_token": "partner-token-9012",
    "slack_client_id": "1111.2222",
    "slack_client_secret": "client-secret-3456",
}


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (
            {**OAUTH, "slack_bot_token": "xoxb-not-a-real-token-1234"},
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set: choose one",
        ),
        (
            {k: v for k, v in OAUTH.items() if k != "slack_client_secret"},
            "SLACK_CLIENT_SECRET is not set: set it to the Client Secret",
        ),
        (
            {**OAUTH, "altegio_user_token": "service-token-7777"},
            "ALTEGIO_USER_TOKEN cannot be used with SLACK_CLIENT_ID",
        ),
    ],
)
def test_exactly_one_slack_mode_is_accepted(tmp_path: Path, settings: dict, said: str) -> None:
    finished = run(["serve"], cwd=tmp_path, settings=settings)
    assert finished.returncode == 2
    assert_one_paragraph(finished.stderr)
    assert said in finished.stderr
    for name in ("slack_client_secret", "slack_bot_token", "altegio_user_token"):
        if name in settings:
            assert settings[name] not in finished.stderr


def test_neither_mode_names_both_ways_to_set_slack_up(tmp_path: Path) -> None:
    settings = {k: v for k, v in REQUIRED.items() if k != "slack_bot_token"}
    finished = run(["serve"], cwd=tmp_path, settings=settings)
    assert finished.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in finished.stderr
    assert "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead" in finished.stderr


def test_a_default_locale_the_bot_does_not_speak_is_refused(tmp_path: Path) -> None:
    finished = run(["serve"], cwd=tmp_path, settings={**REQUIRED, "default_locale": "fr"})
    assert finished.returncode == 2
    assert (
        "DEFAULT_LOCALE is not valid: set it to a language the bot speaks: one of en, es, pt, ru"
        in (finished.stderr)
    )
