"""Block Kit for /license: one card per location. Pure functions, in the reader's language."""

from __future__ import annotations

from datetime import date

from api import License
from handlers import blocks
from handlers.blocks import Block, Message
from handlers.i18n import Translator
from handlers.input import quote

# A licence may carry dozens of options: the card names the first ones and counts the rest.
OPTIONS_SHOWN = 20
OPTION_SHOWN = 100  # characters of one option's title, escaped: 20 of them fit one line


def usage(t: Translator) -> str:
    return t._(
        "*Usage*\n"
        "`/license <location id> [<location id> …]` — show up to 10 locations' licences\n"
        "`/license watch <location id>` — alert this channel before the licence lapses\n"
        "`/license unwatch <location id>` — stop those alerts\n"
        "`/license watching` — list the locations this channel watches"
    )


def days_left_text(lic: License, today: date, warn_days: int | None, t: Translator) -> str:
    left = lic.days_left(today)
    if left is None:
        return "—"
    if left < 0:
        return (
            ":red_circle: *"
            + t.ngettext("expired %(n)s day ago", "expired %(n)s days ago", -left)
            + "*"
        )
    if left == 0:
        return ":red_circle: *" + t._("lapses today") + "*"
    text = t.ngettext("%(n)s day", "%(n)s days", left)
    if warn_days is not None and left <= warn_days:
        return f":warning: *{text}*"
    return text


def license_card(
    lic: License, today: date, alert_days: tuple[int, ...], t: Translator
) -> list[Block]:
    warn_days = max(alert_days) if alert_days else None
    plan = plan_name(lic, t)
    if lic.active:
        headline = t._(
            "*Location %(id)s* · %(plan)s · :large_green_circle: Active",
            id=lic.location_id,
            plan=plan,
        )
    else:
        headline = t._(
            "*Location %(id)s* · %(plan)s · :white_circle: Inactive", id=lic.location_id, plan=plan
        )
    return [
        blocks.section(headline),
        blocks.fields(
            [
                (t._("Started"), t.format_date(lic.start_date)),
                (t._("Deactivates"), t.format_date(lic.deactivation_date)),
                (t._("Days left"), days_left_text(lic, today, warn_days, t)),
                (t._("Staff limit"), staff_limit(lic.staff_limit, t)),
            ]
        ),
        blocks.context(t._("Options: %(options)s", options=options_text(lic, t))),
    ]


def plan_name(lic: License, t: Translator) -> str:
    """The plan's name from Altegio, escaped and short enough to leave room around it."""
    return blocks.escape(lic.plan, blocks.NAME_SHOWN) if lic.plan else t._("Unnamed plan")


def options_text(lic: License, t: Translator) -> str:
    """The first options' titles, then how many more there are."""
    names = ", ".join(blocks.escape(o.title, OPTION_SHOWN) for o in lic.options[:OPTIONS_SHOWN])
    if not names:
        return t._("none")
    extra = len(lic.options) - OPTIONS_SHOWN
    if extra <= 0:
        return names
    return t.ngettext(
        "%(options)s … +%(n)s more", "%(options)s … +%(n)s more", extra, options=names
    )


def staff_limit(limit: int, t: Translator) -> str:
    return t._("Unlimited") if limit == 0 else t.format_number(limit)


def failure_card(location_id: int, sentence: str, t: Translator) -> list[Block]:
    return [
        blocks.section(t._("*Location %(id)s* · :x: %(problem)s", id=location_id, problem=sentence))
    ]


def not_a_location_id(word: str, t: Translator) -> str:
    return (
        t._(
            "`%(word)s` is not a location id: ids are whole numbers, like `/license 4523464`.",
            word=quote(word),
        )
        + "\n\n"
        + usage(t)
    )


def too_many_locations(count: int, most: int, t: Translator) -> str:
    return t._(
        "That is %(count)s locations; ask for %(most)s at most at once.", count=count, most=most
    )


def no_such_location(location_id: int, t: Translator) -> str:
    return t._("Altegio has no location %(id)s.", id=location_id)


def license_message(
    results: list[License | tuple[int, str]],
    today: date,
    alert_days: tuple[int, ...],
    t: Translator,
) -> Message:
    """One card per location: its licence, or the sentence saying why it is missing."""
    cards = [
        license_card(r, today, alert_days, t) if isinstance(r, License) else failure_card(*r, t)
        for r in results
    ]
    return blocks.message(fallback_text(results, t), _join(cards), t)


def _join(cards: list[list[Block]]) -> list[Block]:
    out: list[Block] = []
    for i, card in enumerate(cards):
        if i:
            out.append(blocks.divider())
        out.extend(card)
    return out


def fallback_text(results: list[License | tuple[int, str]], t: Translator) -> str:
    parts = []
    for r in results:
        if isinstance(r, License):
            parts.append(
                t._(
                    "Location %(id)s: %(plan)s, deactivates %(date)s",
                    id=r.location_id,
                    plan=plan_name(r, t),
                    date=t.format_date(r.deactivation_date),
                )
            )
        else:
            parts.append(t._("Location %(id)s: %(problem)s", id=r[0], problem=r[1]))
    return "; ".join(parts)
