"""The alert's Block Kit: what it shows, its buttons, and the message after a click."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api import License
from handlers.alerts import messages
from handlers.alerts.messages import (
    ACKNOWLEDGE,
    OPEN_ALTEGIO,
    SNOOZE_1D,
    SNOOZE_7D,
    alert_after_click,
    alert_blocks,
    parse_button_value,
)
from handlers.i18n import ENGLISH, translator

TODAY = date(2026, 3, 1)


def make_licence(days_left: int, **kw) -> License:
    return License(
        id=9,
        location_id=4523464,
        plan=kw.pop("plan", "Business <VIP>"),
        active=True,
        deactivation_date=TODAY + timedelta(days=days_left),
        **kw,
    )


def ids(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_alert_names_location_plan_date_and_days_left_with_four_buttons() -> None:
    blocks = alert_blocks(make_licence(5), "days:7", TODAY, ENGLISH, web_url="https://app.alteg.io")
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in blocks[1]["fields"]}
    assert fields == {
        "*Location*": "4523464",
        "*Plan*": "Business &lt;VIP&gt;",
        "*Deactivation date*": "6 Mar 2026",
        "*Days left*": "5 days left",
    }
    assert "lapses in *5 days*" in blocks[0]["text"]["text"]
    assert ids(blocks) == [SNOOZE_1D, SNOOZE_7D, ACKNOWLEDGE, OPEN_ALTEGIO]
    link = blocks[-1]["elements"][-1]
    assert link["url"] == "https://app.alteg.io" and "value" not in link
    assert parse_button_value(blocks[-1]["elements"][0]["value"]) == (4523464, date(2026, 3, 6))


def test_headlines_for_each_kind() -> None:
    assert "lapses *today*" in messages.headline(make_licence(0), "days:1", TODAY, ENGLISH)
    assert "expired 2 days ago" in messages.headline(make_licence(-2), "expired", TODAY, ENGLISH)
    inactive = License(id=1, location_id=7, active=False)
    assert "not active" in messages.headline(inactive, "inactive", TODAY, ENGLISH)
    assert "Snooze over" in messages.headline(
        make_licence(3), "snooze:2026-03-01T00:00:00", TODAY, ENGLISH
    )


def test_button_values_round_trip_and_reject_strangers() -> None:
    assert parse_button_value(messages.button_value(5, None)) == (5, None)
    assert parse_button_value(messages.button_value(5, TODAY)) == (5, TODAY)
    for bad in (None, "", "x:2026-01-01", "5:not-a-date"):
        assert parse_button_value(bad) is None


def test_after_a_click_the_alert_keeps_its_body_and_says_who_did_what() -> None:
    original = alert_blocks(
        make_licence(5), "days:7", TODAY, ENGLISH, web_url="https://app.alteg.io"
    )
    at = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    snoozed = alert_after_click(
        original,
        status=messages.snoozed_status("U7", at + timedelta(days=1), at, ENGLISH),
        location_id=4523464,
        period=date(2026, 3, 6),
        web_url="https://app.alteg.io",
        acknowledged=False,
        t=ENGLISH,
    )
    assert snoozed[:3] == original[:3]
    assert "Snoozed by <@U7>" in snoozed[3]["elements"][0]["text"]
    assert "1 Mar 2026 10:30 UTC" in snoozed[3]["elements"][0]["text"]
    assert ids(snoozed) == [SNOOZE_1D, SNOOZE_7D, ACKNOWLEDGE, OPEN_ALTEGIO]
    acked = alert_after_click(
        snoozed,
        status=messages.acknowledged_status("U8", at, ENGLISH),
        location_id=4523464,
        period=date(2026, 3, 6),
        web_url="https://app.alteg.io",
        acknowledged=True,
        t=ENGLISH,
    )
    assert len(acked) == len(snoozed)  # the status line is replaced, not stacked
    assert "Acknowledged by <@U8>" in acked[3]["elements"][0]["text"]
    assert ids(acked) == [OPEN_ALTEGIO]


def test_a_long_watch_list_is_split_into_sections_of_at_most_3000_characters() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    from handlers.store import Watch

    rows = [
        messages.WatchRow(Watch("T", "C", i, "U", now), licence=make_licence(40, plan="P" * 80))
        for i in range(1, 41)
    ]
    blocks = messages.watching_message(rows, TODAY, now, ENGLISH, more=3).blocks
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "43 locations" in blocks[0]["text"]["text"]
    assert "3 more" in blocks[-1]["elements"][0]["text"]


def test_the_alert_in_spanish_and_russian() -> None:
    es = alert_blocks(make_licence(5), "days:7", TODAY, translator("es"), web_url="https://x")
    assert "*Sucursal 4523464*" in es[0]["text"]["text"] and "*5 días*" in es[0]["text"]["text"]
    assert {"type": "mrkdwn", "text": "*Fecha de desactivación*\n6 mar 2026"} in es[1]["fields"]
    labels = [e["text"]["text"] for e in es[-1]["elements"]]
    assert labels == ["Posponer 1 día", "Posponer 7 días", "Entendido", "Abrir Altegio"]
    for left, words in ((1, "1 день"), (2, "2 дня"), (5, "5 дней")):
        ru = alert_blocks(make_licence(left), "days:7", TODAY, translator("ru"), web_url="x")
        assert f"*{words}*" in ru[0]["text"]["text"]
    ru = alert_blocks(make_licence(5), "days:7", TODAY, translator("ru"), web_url="x")
    # Babel writes a narrow no-break space before "г.".
    assert {"type": "mrkdwn", "text": "*Дата отключения*\n6 мар. 2026\u202fг."} in ru[1]["fields"]
