"""Which alert a channel gets, as a pure decision over the licence, the watch and the alert log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api import License
from handlers.store import Watch
from sweep.policy import Decision, Outcome, decide, due_kinds, snooze_kind

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAYS = (30, 7, 1)


def licence(days_left: int | None, *, active: bool = True) -> License:
    end = TODAY + timedelta(days=days_left) if days_left is not None else None
    return License(id=1, location_id=42, plan="Start", active=active, deactivation_date=end)


def watch(**changes) -> Watch:
    base = Watch("T1", "C1", 42, "U1", NOW - timedelta(days=60))
    return Watch(**{**base.__dict__, **changes})


def decide_for(lic: License, w: Watch | None = None, sent: set[str] | None = None, **kw):
    return decide(
        lic, w or watch(), sent or set(), today=TODAY, now=kw.get("now", NOW), alert_days=DAYS
    )


@pytest.mark.parametrize(
    ("days_left", "active", "kinds"),
    [
        (200, True, []),
        (31, True, []),
        (30, True, ["days:30"]),
        (8, True, ["days:30"]),
        (7, True, ["days:7", "days:30"]),
        (1, True, ["days:1", "days:7", "days:30"]),
        (0, True, ["days:1", "days:7", "days:30"]),
        (-1, True, ["expired", "days:1", "days:7", "days:30"]),
        (-1, False, ["expired", "days:1", "days:7", "days:30"]),
        (100, False, ["inactive"]),
        (None, False, ["inactive"]),
        (None, True, []),
    ],
)
def test_due_kinds_most_urgent_first(days_left, active, kinds) -> None:
    assert due_kinds(licence(days_left, active=active), TODAY, DAYS) == kinds


def test_the_most_urgent_unsent_kind_is_posted_and_covers_the_rest() -> None:
    assert decide_for(licence(5)) == Decision(Outcome.POST, "days:7", ("days:30",))
    assert decide_for(licence(5), sent={"days:30"}) == Decision(Outcome.POST, "days:7", ())
    assert decide_for(licence(5), sent={"days:7", "days:30"}).outcome is Outcome.NOTHING_DUE
    assert decide_for(licence(200)).outcome is Outcome.NOTHING_DUE


def test_acknowledged_period_silences_only_that_period() -> None:
    lic = licence(5)
    acked = watch(acknowledged_period=lic.deactivation_date, acknowledged_by="U2")
    assert decide_for(lic, acked).outcome is Outcome.ACKNOWLEDGED
    renewed = licence(6)
    assert decide_for(renewed, acked).kind == "days:7"


def test_a_running_snooze_posts_nothing() -> None:
    snoozed = watch(snoozed_until=NOW + timedelta(hours=1), snoozed_by="U2")
    assert decide_for(licence(0), snoozed, sent={"days:30"}).outcome is Outcome.SNOOZED


def test_a_snooze_silences_only_the_period_it_was_pressed_on() -> None:
    lic = licence(5)
    snoozed = watch(
        snoozed_until=NOW + timedelta(days=6),
        snoozed_by="U2",
        snoozed_period=lic.deactivation_date,
    )
    assert decide_for(lic, snoozed, sent={"days:30"}).outcome is Outcome.SNOOZED
    # Renewed, and the new licence's threshold came while last period's snooze still runs:
    # its alert is posted as if never snoozed (no "snooze over" reminder either).
    renewed = licence(4)
    assert decide_for(renewed, snoozed) == Decision(Outcome.POST, "days:7", ("days:30",))
    # A snooze with no period known (from before periods were kept) holds whatever the period.
    legacy = watch(snoozed_until=NOW + timedelta(days=6), snoozed_by="U2")
    assert decide_for(renewed, legacy).outcome is Outcome.SNOOZED


def test_an_ended_snooze_reminds_once_and_the_reminder_covers_what_fell_due() -> None:
    until = NOW - timedelta(minutes=5)
    ended = watch(snoozed_until=until)
    reminder = snooze_kind(until)
    assert decide_for(licence(5), ended, sent={"days:30"}) == Decision(
        Outcome.POST, reminder, ("days:7",)
    )
    # Nothing new fell due: still one reminder, as the licence still needs attention.
    assert decide_for(licence(20), ended, sent={"days:30"}) == Decision(Outcome.POST, reminder, ())
    # Once reminded, only later thresholds post.
    assert decide_for(licence(20), ended, sent={"days:30", reminder}).outcome is (
        Outcome.NOTHING_DUE
    )
    assert decide_for(licence(5), ended, sent={"days:30", reminder}).kind == "days:7"
    # Renewed meanwhile: nothing needs attention, so no reminder.
    assert decide_for(licence(300), ended, sent=set()).outcome is Outcome.NOTHING_DUE


def test_a_snooze_from_an_earlier_period_does_not_turn_the_next_alert_into_a_reminder() -> None:
    ended = watch(snoozed_until=NOW - timedelta(days=300))
    decision = decide_for(licence(25), ended, sent=set())
    assert decision == Decision(Outcome.POST, "days:30", (snooze_kind(ended.snoozed_until),))


def test_expired_and_inactive_alert_once_per_period() -> None:
    assert decide_for(licence(-3)).kind == "expired"
    assert decide_for(licence(-3), sent={"expired", "days:1", "days:7", "days:30"}).outcome is (
        Outcome.NOTHING_DUE
    )
    assert decide_for(licence(100, active=False)).kind == "inactive"
    assert decide_for(licence(100, active=False), sent={"inactive"}).outcome is (
        Outcome.NOTHING_DUE
    )


def test_thresholds_follow_the_settings() -> None:
    lic = licence(10)
    only_14 = decide(lic, watch(), set(), today=TODAY, now=NOW, alert_days=(14,))
    assert only_14.kind == "days:14"
    none = decide(lic, watch(), set(), today=TODAY, now=NOW, alert_days=())
    assert none.outcome is Outcome.NOTHING_DUE
