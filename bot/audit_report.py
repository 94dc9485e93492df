"""`altegio-bot audit`: the audit trail as a table for people, or JSON lines for machines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import timedelta

from handlers.store import AuditEvent

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
COLUMNS = ("time (UTC)", "workspace", "user", "channel", "action", "target", "outcome")


def parse_span(text: str) -> timedelta:
    """How far back: "7d", "12h", "30m", "2w" (a plain number is days)."""
    match = _SPAN.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a span of time: use a number with m, h, d or w, like 7d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


def as_dict(event: AuditEvent) -> dict[str, object]:
    return {
        "at": event.at.isoformat() if event.at else None,
        "team_id": event.team_id,
        "user_id": event.user_id,
        "channel_id": event.channel_id or None,
        "action": event.action,
        "location_id": event.location_id,
        "target": event.target or None,
        "file_id": event.file_id or None,
        "outcome": "ok" if event.ok else "refused",
        "reason": event.reason or None,
    }


def json_lines(events: Iterable[AuditEvent]) -> str:
    return "".join(json.dumps(as_dict(e), ensure_ascii=False) + "\n" for e in events)


def _target(event: AuditEvent) -> str:
    parts = []
    if event.location_id is not None:
        parts.append(f"location {event.location_id}")
    if event.target:
        parts.append(event.target)
    if event.file_id:
        parts.append(f"file {event.file_id}")
    return ", ".join(parts)


def table(events: Iterable[AuditEvent]) -> str:
    rows = [
        (
            f"{e.at:%Y-%m-%d %H:%M:%S}" if e.at else "",
            e.team_id,
            e.user_id,
            e.channel_id,
            e.action,
            _target(e),
            ("ok" if e.ok else "refused") + (f": {e.reason}" if e.reason else ""),
        )
        for e in events
    ]
    if not rows:
        return "No audit entries in that time.\n"
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [COLUMNS, *rows]]  # fmt: skip
    return "\n".join(lines) + "\n"
