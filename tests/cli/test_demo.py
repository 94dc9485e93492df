"""`altegio-bot demo`: a new user's first minute, through the real command with typed input."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.support import run

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_the_demo_walks_through_every_feature_with_no_settings_and_no_network(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "team photo.png"
    photo.write_bytes(PNG)
    # What a checkout or a shell may hold must not matter: broken settings, aimed elsewhere.
    (tmp_path / ".env").write_text("PORT=not-a-port\nDATABASE_URL=postgresql://nowhere/db\n")
    typed = "\n".join(
        [
            "/license 4523464",
            "/license 4523465",
            "/license 4523467",
            "/phone +44 20 7946 0958",
            "/license watch 4523464",
            ":sweep",
            ":click Snooze 1 day",
            "/altegio login",
            "demo@sandbox.example",
            "wrong password",
            "/altegio login",
            "demo@sandbox.example",
            "sandbox",
            "/altegio whoami",
            f':share "{photo}" master 17 location 4523464',
            "/altegio logout",
            ":click nothing-like-this",
            "",
        ]
    )
    finished = run(
        ["demo"],
        cwd=tmp_path,
        settings={
            "altegio_api_url": "https://api.alteg.io/api/v1",
            "alert_days": "soon",
            "log_format": "xml",
            "redis_url": "redis://nowhere:1/0",
        },
        stdin=typed,
        timeout=120,
    )
    out, err = finished.stdout, finished.stderr
    assert finished.returncode == 0, err
    assert "Traceback" not in out + err
    # The banner: credentials and where the logs went; no log line among the replies.
    assert "demo@sandbox.example  password: sandbox" in out
    log_line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING|ERROR) ", re.M)
    assert not log_line.search(out) and not log_line.search(err)
    assert re.search(r"Logs: \S+demo\.log", out)
    # Licences in their states, and the phone check.
    assert "*Location 4523464* · Business · :large_green_circle: Active" in out
    assert "*Days left*: :warning: *5 days*" in out
    assert "*Location 4523465*" in out and "expired" in out.lower()
    assert "*Staff limit*: Unlimited" in out
    assert "Altegio accepts this number" in out and "+442079460958" in out
    # Watching, the on-demand sweep (its own ALERT_DAYS, not the environment's), the buttons.
    assert "This channel now watches location 4523464" in out
    assert ":warning: *Location 4523464*: the Altegio licence lapses in *5 days*." in out
    assert "[Snooze 1 day] [Snooze 7 days] [Acknowledge] [Open Altegio]" in out
    assert "posted 1, skipped 0" in out
    assert "[chat.update]" in out and ":zzz: Snoozed by <@U0CONSOLE>" in out
    # The login form: refused, then accepted; whoami; the photo; logout.
    assert "[form]" in out and "password" in out.split("[form]", 1)[1].splitlines()[0].lower()
    assert "You are linked to Altegio as *Sandy Sandbox*" in out
    assert "`team photo.png` is now the image of team member 17 at location 4523464." in out
    assert "[reactions.add] :white_check_mark:" in out
    assert "I have forgotten your Altegio session (Sandy Sandbox)" in out
    assert "No button `nothing-like-this`" in out
    # In the order typed.
    assert out.index("Location 4523464*") < out.index("+442079460958") < out.index("Snoozed by")
    assert not list(tmp_path.glob("*.db"))  # its database lives in its own temporary directory
