"""`altegio-bot console`: typed commands go through the real handlers to the fake Altegio."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import run
from tests.fakes import FakeAltegio, FakeSlack


def console(tmp_path: Path, fake_settings: dict[str, str], typed: str) -> tuple[int, str, str]:
    settings = {**fake_settings, "database_url": f"sqlite:///{tmp_path / 'bot.db'}"}
    finished = run(["console"], cwd=tmp_path, settings=settings, stdin=typed)
    return finished.returncode, finished.stdout, finished.stderr


def test_console_prints_the_licence_card_and_the_phone_verdict_then_exits_on_eof(
    tmp_path: Path, fake_settings: dict[str, str], fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    fake_altegio.add_license(
        4523464, plan="Business", days_left=12, options=[{"id": 1, "title": "Online booking"}]
    )
    code, out, err = console(tmp_path, fake_settings, "/license 4523464\n/phone +44 20 7946 0958\n")
    assert code == 0, err
    assert "Traceback" not in err
    assert "*Location 4523464* · Business · :large_green_circle: Active" in out
    assert "*Days left*: :warning: *12 days*" in out and "Online booking" in out
    assert "Altegio accepts this number" in out and "+442079460958" in out
    assert out.index("Location 4523464") < out.index("+442079460958")  # in the order typed
    assert len(fake_altegio.requests("/license/4523464")) == 1
    assert len(fake_altegio.requests("/validation/validate_phone/")) == 1
    assert fake_slack.requests() == []  # the console never talks to Slack


def test_console_shows_errors_as_the_user_would_see_them(
    tmp_path: Path, fake_settings: dict[str, str], fake_altegio: FakeAltegio
) -> None:
    code, out, err = console(tmp_path, fake_settings, "/license 999\n/license 12ab\n")
    assert code == 0, err
    assert "Altegio has no location 999." in out
    assert "`12ab` is not a location id" in out
    assert "Traceback" not in err


def test_console_explains_unknown_input_and_stops_at_exit(
    tmp_path: Path, fake_settings: dict[str, str], fake_altegio: FakeAltegio
) -> None:
    code, out, err = console(tmp_path, fake_settings, "/nope\nhello\n\nexit\n/license 1\n")
    assert code == 0, err
    assert "No such command here: /nope." in out
    assert out.count("Type a slash command such as `/license 4523464`") == 2
    assert fake_altegio.requests() == []  # nothing after `exit` ran
