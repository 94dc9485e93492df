"""Every language keeps Slack's Block Kit limits: the longest translations, with the longest
plans, reasons and lists, still give messages Slack accepts (tests/fakes/block_limits.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api import AccessDenied, License
from handlers.alerts import messages as alerts
from handlers.errors import describe, reply_blocks
from handlers.i18n import LANGUAGES, translator
from handlers.license import messages as license
from handlers.store import Watch
from tests.fakes.block_limits import message_problems

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LONG = "Plan " + "Ж&<>*_" * 300


def licence(location_id: int, days_left: int = 5) -> License:
    return License(
        id=1,
        location_id=location_id,
        plan=LONG,
        active=True,
        start_date=TODAY - timedelta(days=300),
        deactivation_date=TODAY + timedelta(days=days_left),
        staff_limit=123456,
        options=[{"id": i, "title": LONG} for i in range(30)],
    )


def ok(text: str, blocks: list | None) -> None:
    payload: dict = {"text": text}
    if blocks is not None:
        payload["blocks"] = blocks
    assert message_problems(payload) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_licence_cards_and_errors(language: str) -> None:
    t = translator(language)
    reason = describe(AccessDenied(LONG * 3, status=403), t)
    results = [licence(i, days_left=i - 5) for i in range(1, 9)]
    results += [(98765432109, reason), (12345678901, license.usage(t))]
    reply = license.license_message(results, TODAY, (30, 7, 1), t)
    ok(reply.text, reply.blocks)
    ok(reason, reply_blocks(AccessDenied(LONG * 3, status=403), t))
    ok(license.not_a_location_id("x" * 3000, t), None)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "kind", ["days:30", "days:1", "expired", "inactive", "renewal", "snooze:x"]
)
def test_alerts_and_their_clicks(language: str, kind: str) -> None:
    t = translator(language)
    lic = licence(4523464, days_left=-3 if kind == "expired" else 1)
    body = alerts.alert_blocks(lic, kind, TODAY, t, web_url="https://app.alteg.io")
    ok(alerts.alert_text(lic, kind, TODAY, t), body)
    status = alerts.snoozed_status("U" * 20, NOW + timedelta(days=7), NOW, t)
    after = alerts.alert_after_click(
        body,
        status=status,
        location_id=4523464,
        period=lic.deactivation_date,
        web_url="https://app.alteg.io",
        acknowledged=False,
        t=t,
    )
    ok(alerts.alert_text(lic, kind, TODAY, t), after)
    ok(alerts.paused_text(4523464, "U" * 20, t), None)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_watch_list_and_watch_replies(language: str) -> None:
    t = translator(language)
    rows = [
        alerts.WatchRow(
            Watch("T", "C", 10**11 + i, "U", NOW, snoozed_until=NOW + timedelta(days=1)),
            licence=licence(10**11 + i),
        )
        if i % 2
        else alerts.WatchRow(Watch("T", "C", 10**11 + i, "U", NOW), problem=LONG)
        for i in range(40)
    ]
    reply = alerts.watching_message(rows, TODAY, NOW, t, more=1000)
    ok(reply.text, reply.blocks)
    ok(alerts.watch_added(licence(1), TODAY, (90, 60, 30, 14, 7, 3, 1), t, added=True), None)
