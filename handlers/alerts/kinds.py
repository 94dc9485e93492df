"""The names of alert kinds (AlertKey.kind): shared by the sweep's policy and the alert builders.

"days:<n>"       days left fell to n or fewer, for each n in ALERT_DAYS
"expired"        the deactivation date has passed
"inactive"       Altegio says the licence is not active
"renewal"        Altegio will not show the licence until it is renewed (402, or a 403 saying so)
"snooze:<iso>"   the reminder when a snooze that ended at <iso> finds the licence still due
"""

from __future__ import annotations

from datetime import datetime

EXPIRED = "expired"
INACTIVE = "inactive"
RENEWAL = "renewal"
SNOOZE_PREFIX = "snooze:"


def days_kind(threshold: int) -> str:
    return f"days:{threshold}"


def snooze_kind(until: datetime) -> str:
    return SNOOZE_PREFIX + until.isoformat(timespec="seconds")


def threshold_of(kind: str) -> int | None:
    """The n of "days:<n>", else None."""
    prefix, _, rest = kind.partition(":")
    return int(rest) if prefix == "days" and rest.isdigit() else None
