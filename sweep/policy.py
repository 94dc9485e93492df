"""Which alert, if any, a watching channel should get about a licence. Pure: data in, decision out.

Kinds of alert (handlers/alerts/kinds.py), one per channel, location and licence period (the
deactivation date, so a renewal starts afresh).

Only the most urgent kind that has not been sent is posted; the less urgent ones it makes
redundant are recorded as covered by the same message, so a first sweep that finds a licence
already under several thresholds posts once, and never posts the larger thresholds later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from api import License
from handlers.alerts.kinds import EXPIRED, INACTIVE, RENEWAL, days_kind, snooze_kind
from handlers.store import Watch


class Outcome(Enum):
    POST = "post"
    NOTHING_DUE = "nothing due"  # healthy licence, or every due alert already sent
    SNOOZED = "snoozed"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    kind: str | None = None  # the alert to post
    covers: tuple[str, ...] = ()  # kinds to record as sent by the same message

    @property
    def posts(self) -> bool:
        return self.outcome is Outcome.POST


_RENEW = re.compile(r"renew|продл", re.IGNORECASE)


def needs_renewal(status: int | None, message: str | None) -> bool:
    """Altegio's way of saying the licence must be renewed before it shows it: a 402, or a 403
    whose message says so (a plain 403 is a missing permission, not news about the licence)."""
    return status == 402 or (status == 403 and bool(_RENEW.search(message or "")))


def due_kinds(licence: License, today: date, alert_days: tuple[int, ...]) -> list[str]:
    """Every kind of alert this licence calls for now, most urgent first."""
    kinds: list[str] = []
    left = licence.days_left(today)
    if left is not None and left < 0:
        kinds.append(EXPIRED)
    elif not licence.active:
        kinds.append(INACTIVE)
    if left is not None:
        kinds += [days_kind(n) for n in sorted(alert_days) if left <= n]
    return kinds


def decide(
    licence: License,
    watch: Watch,
    sent: set[str],
    *,
    today: date,
    now: datetime,
    alert_days: tuple[int, ...],
    renewal: bool = False,
) -> Decision:
    """What to post to `watch`'s channel, given the kinds already sent for this licence period.

    `renewal`: Altegio refused to show the licence until it is renewed; that is the only news.
    """
    period = licence.deactivation_date
    due = [RENEWAL] if renewal else due_kinds(licence, today, alert_days)
    if not due:
        return Decision(Outcome.NOTHING_DUE)
    if period is not None and watch.acknowledged_period == period:
        return Decision(Outcome.ACKNOWLEDGED)
    snoozed_until = watch.snoozed_until
    if snoozed_until is not None and snoozed_until > now:
        return Decision(Outcome.SNOOZED)
    unsent = [k for k in due if k not in sent]
    if snoozed_until is not None:
        reminder = snooze_kind(snoozed_until)
        if reminder not in sent:
            if sent:
                # This period was alerted before the snooze: one reminder now stands for it and
                # for anything that fell due while it was snoozed.
                return Decision(Outcome.POST, reminder, tuple(unsent))
            if unsent:
                # A snooze from an earlier period (or one that ended before anything was due):
                # the ordinary alert is the news, and it settles that snooze too.
                return Decision(Outcome.POST, unsent[0], (*unsent[1:], reminder))
    if not unsent:
        return Decision(Outcome.NOTHING_DUE)
    return Decision(Outcome.POST, unsent[0], tuple(unsent[1:]))
