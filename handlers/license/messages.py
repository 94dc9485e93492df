"""Block Kit for /license: one card per location. Pure functions."""

from __future__ import annotations

from datetime import date

from api import License
from handlers import blocks
from handlers.blocks import Block, Message
from handlers.input import quote

USAGE = (
    "*Usage*\n"
    "`/license <location id> [<location id> …]` — show up to 10 locations' licences\n"
    "`/license watch <location id>` — alert this channel before the licence lapses\n"
    "`/license unwatch <location id>` — stop those alerts\n"
    "`/license watching` — list the locations this channel watches"
)


def fmt_date(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def days_left_text(lic: License, today: date, warn_days: int | None) -> str:
    left = lic.days_left(today)
    if left is None:
        return "—"
    if left < 0:
        ago = -left
        return f":red_circle: *expired {ago} day{'s' if ago != 1 else ''} ago*"
    if left == 0:
        return ":red_circle: *lapses today*"
    text = f"{left} day{'s' if left != 1 else ''}"
    if warn_days is not None and left <= warn_days:
        return f":warning: *{text}*"
    return text


def license_card(lic: License, today: date, alert_days: tuple[int, ...]) -> list[Block]:
    warn_days = max(alert_days) if alert_days else None
    status = ":large_green_circle: Active" if lic.active else ":white_circle: Inactive"
    staff = "Unlimited" if lic.staff_limit == 0 else str(lic.staff_limit)
    options = ", ".join(blocks.escape(o.title) for o in lic.options) or "none"
    return [
        blocks.section(
            f"*Location {lic.location_id}* · {blocks.escape(lic.plan or 'Unnamed plan')} · {status}"
        ),
        blocks.fields(
            [
                ("Started", fmt_date(lic.start_date)),
                ("Deactivates", fmt_date(lic.deactivation_date)),
                ("Days left", days_left_text(lic, today, warn_days)),
                ("Staff limit", staff),
            ]
        ),
        blocks.context(f"Options: {options}"),
    ]


def failure_card(location_id: int, sentence: str) -> list[Block]:
    return [blocks.section(f"*Location {location_id}* · :x: {sentence}")]


def not_a_location_id(word: str) -> str:
    return (
        f"`{quote(word)}` is not a location id: ids are whole numbers, "
        f"like `/license 4523464`.\n\n{USAGE}"
    )


def too_many_locations(count: int, most: int) -> str:
    return f"That is {count} locations; ask for {most} at most at once."


def no_such_location(location_id: int) -> str:
    return f"Altegio has no location {location_id}."


def license_message(
    results: list[License | tuple[int, str]], today: date, alert_days: tuple[int, ...]
) -> Message:
    """One card per location: its licence, or the sentence saying why it is missing."""
    cards = [
        license_card(r, today, alert_days) if isinstance(r, License) else failure_card(*r)
        for r in results
    ]
    return Message(fallback_text(results), _join(cards))


def _join(cards: list[list[Block]]) -> list[Block]:
    out: list[Block] = []
    for i, card in enumerate(cards):
        if i:
            out.append(blocks.divider())
        out.extend(card)
    return out


def fallback_text(results: list[License | tuple[int, str]]) -> str:
    parts = []
    for r in results:
        if isinstance(r, License):
            parts.append(
                f"Location {r.location_id}: {blocks.escape(r.plan or 'Unnamed plan')}, "
                f"deactivates {fmt_date(r.deactivation_date)}"
            )
        else:
            parts.append(f"Location {r[0]}: {r[1]}")
    return "; ".join(parts)
