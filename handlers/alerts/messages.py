"""Block Kit for licence alerts and watches. Pure functions: data in, blocks out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from api import License
from handlers import blocks
from handlers.alerts.kinds import INACTIVE, RENEWAL, SNOOZE_PREFIX, threshold_of
from handlers.blocks import Block, Message
from handlers.i18n import Translator
from handlers.input import quote
from handlers.store import Watch

SNOOZE_1D = "alert_snooze_1d"
SNOOZE_7D = "alert_snooze_7d"
ACKNOWLEDGE = "alert_acknowledge"
OPEN_ALTEGIO = "alert_open_altegio"
SNOOZE_DAYS = {SNOOZE_1D: 1, SNOOZE_7D: 7}

# Block ids let a click rebuild the message it came from without asking Altegio again.
BODY_BLOCK = "alert_body"
STATUS_BLOCK = "alert_status"
ACTIONS_BLOCK = "alert_actions"


def watch_usage(t: Translator) -> str:
    return t._(
        "`/license watch <location id>` — alert this channel before the licence lapses\n"
        "`/license unwatch <location id>` — stop those alerts\n"
        "`/license watching` — list the locations this channel watches"
    )


def days_phrase(left: int | None, t: Translator) -> str:
    if left is None:
        return t._("no deactivation date")
    if left < 0:
        return t.ngettext("expired %(n)s day ago", "expired %(n)s days ago", -left)
    if left == 0:
        return t._("lapses today")
    return t.ngettext("%(n)s day left", "%(n)s days left", left)


def slack_time(moment: datetime, t: Translator) -> str:
    """A time each reader sees in their own time zone (UTC as the fallback text)."""
    fallback = t._(
        "%(date)s %(time)s UTC", date=t.format_date(moment), time=moment.strftime("%H:%M")
    )
    # Slack fills in the date and time in the reader's own Slack language and time zone.
    shown = t._("{date_short_pretty} at {time}")
    return f"<!date^{int(moment.timestamp())}^{shown}|{fallback}>"


def button_value(location_id: int, period: date | None) -> str:
    """The location and the licence period (deactivation date) the alert is about: a click
    answers that period's alert only."""
    return f"{location_id}:{period.isoformat() if period else 'none'}"


def names_period(value: str | None) -> bool:
    """False for a button value of the location alone, which names no period: the click
    answers the alert about the licence's current period."""
    return ":" in (value or "")


def parse_button_value(value: str | None) -> tuple[int, date | None] | None:
    """(location id, licence period) from a button's value, or None if it is not ours.

    A value of the location alone gives period None: see `names_period`."""
    location, colon, period = (value or "").partition(":")
    if not location.isdigit():
        return None
    if period == "none" or not colon:
        return int(location), None
    try:
        return int(location), date.fromisoformat(period)
    except ValueError:
        return None


# -- the alert ------------------------------------------------------------------------------------


def headline(licence: License, kind: str, today: date, t: Translator) -> str:
    where = licence.location_id
    left = licence.days_left(today)
    if kind == INACTIVE:
        return t._(":red_circle: *Location %(id)s*: the Altegio licence is not active.", id=where)
    if kind == RENEWAL:
        return t._(
            ":red_circle: *Location %(id)s*: Altegio says the licence must be renewed.", id=where
        )
    if kind.startswith(SNOOZE_PREFIX):
        return _snooze_over(licence, left, t)
    if left is None:
        return t._(
            ":red_circle: *Location %(id)s*: the Altegio licence has no deactivation date.",
            id=where,
        )
    if left < 0:
        return t.ngettext(
            ":red_circle: *Location %(id)s*: the Altegio licence expired %(n)s day ago.",
            ":red_circle: *Location %(id)s*: the Altegio licence expired %(n)s days ago.",
            -left,
            id=where,
        )
    if left == 0:
        return t._(":warning: *Location %(id)s*: the Altegio licence lapses *today*.", id=where)
    return t.ngettext(
        ":warning: *Location %(id)s*: the Altegio licence lapses in *%(n)s day*.",
        ":warning: *Location %(id)s*: the Altegio licence lapses in *%(n)s days*.",
        left,
        id=where,
    )


def _snooze_over(licence: License, left: int | None, t: Translator) -> str:
    where = licence.location_id
    if not licence.active:
        return t._(
            ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence is not active.",
            id=where,
        )
    if left is None:
        return t._(
            ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence has no "
            "deactivation date.",
            id=where,
        )
    if left < 0:
        return t.ngettext(
            ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence expired "
            "%(n)s day ago.",
            ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence expired "
            "%(n)s days ago.",
            -left,
            id=where,
        )
    if left == 0:
        return t._(
            ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence lapses today.",
            id=where,
        )
    return t.ngettext(
        ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence lapses in %(n)s day.",
        ":alarm_clock: Snooze over — *Location %(id)s*: the Altegio licence lapses in %(n)s days.",
        left,
        id=where,
    )


def _state(licence: License, today: date, t: Translator) -> str:
    if not licence.active:
        return t._("not active")
    return days_phrase(licence.days_left(today), t)


def alert_text(licence: License, kind: str, today: date, t: Translator) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    if kind == RENEWAL:
        return t._(
            "Location %(id)s: Altegio says the licence must be renewed.", id=licence.location_id
        )
    return t._(
        "Location %(id)s: Altegio licence %(plan)s, deactivation date %(date)s: %(state)s.",
        id=licence.location_id,
        plan=blocks.escape(licence.plan, blocks.NAME_SHOWN)
        if licence.plan
        else t._("unnamed plan"),
        state=_state(licence, today, t),
        date=t.format_date(licence.deactivation_date),
    )


def alert_actions(
    location_id: int, period: date | None, web_url: str, t: Translator, *, acknowledged: bool
) -> Block:
    value = button_value(location_id, period)
    link = {
        "type": "button",
        "text": blocks.plain_text(t._("Open Altegio"), blocks.BUTTON_TEXT),
        "action_id": OPEN_ALTEGIO,
        "url": web_url,
    }
    if acknowledged:
        return blocks.actions(link, block_id=ACTIONS_BLOCK)
    return blocks.actions(
        blocks.button(t._("Snooze 1 day"), SNOOZE_1D, value),
        blocks.button(t._("Snooze 7 days"), SNOOZE_7D, value),
        blocks.button(t._("Acknowledge"), ACKNOWLEDGE, value, style="primary"),
        link,
        block_id=ACTIONS_BLOCK,
    )


def alert_blocks(
    licence: License, kind: str, today: date, t: Translator, *, web_url: str
) -> list[Block]:
    left = licence.days_left(today)
    threshold = threshold_of(kind)
    why = (
        t.ngettext(
            "Sent because %(n)s day or fewer were left.",
            "Sent because %(n)s days or fewer were left.",
            threshold,
        )
        if threshold is not None
        else t._("Sent once for this licence period.")
    )
    how = t._(
        "Snooze to hear again later, or acknowledge to stop reminders until the licence is "
        "renewed. `/license unwatch %(id)s` stops all alerts.",
        id=licence.location_id,
    )
    body = blocks.section(headline(licence, kind, today, t))
    body["block_id"] = BODY_BLOCK
    return [
        body,
        blocks.fields(
            [
                (t._("Location"), str(licence.location_id)),
                (
                    t._("Plan"),
                    blocks.escape(licence.plan, blocks.NAME_SHOWN)
                    if licence.plan
                    else t._("Unnamed plan"),
                ),
                (t._("Deactivation date"), t.format_date(licence.deactivation_date)),
                (t._("Days left"), days_phrase(left, t) if left is not None else "—"),
            ]
        ),
        blocks.context(f"{why} {how}"),
        alert_actions(
            licence.location_id, licence.deactivation_date, web_url, t, acknowledged=False
        ),
    ]


# -- after a click --------------------------------------------------------------------------------


def snoozed_status(user_id: str, until: datetime, at: datetime, t: Translator) -> str:
    return t._(
        ":zzz: Snoozed by <@%(user)s> %(at)s, until %(until)s.",
        user=user_id,
        at=slack_time(at, t),
        until=slack_time(until, t),
    )


def acknowledged_status(user_id: str, at: datetime, t: Translator) -> str:
    return t._(
        ":white_check_mark: Acknowledged by <@%(user)s> %(at)s: "
        "no more reminders until the licence is renewed.",
        user=user_id,
        at=slack_time(at, t),
    )


def alert_after_click(
    original: list[Block],
    *,
    status: str,
    location_id: int,
    period: date | None,
    web_url: str,
    acknowledged: bool,
    t: Translator,
) -> list[Block]:
    """The alert as it was, with who did what and when in place of the last status line."""
    kept = [b for b in original if b.get("block_id") not in (STATUS_BLOCK, ACTIONS_BLOCK)]
    line = blocks.context(status)
    line["block_id"] = STATUS_BLOCK
    return [
        *kept,
        line,
        alert_actions(location_id, period, web_url, t, acknowledged=acknowledged),
    ]


# -- command replies -------------------------------------------------------------------------------


def watch_needs_channel(t: Translator) -> str:
    return t._("Licence watches belong to a channel: run this in the channel to alert.")


def no_such_location(t: Translator) -> str:
    return t._("Altegio has no such location.")


def stale_button(t: Translator) -> str:
    return t._("That button no longer matches an alert I can update.")


def no_longer_watched(location_id: int, t: Translator) -> str:
    return t._(
        "This channel no longer watches location %(id)s, so there is nothing to change. "
        "`/license watch %(id)s` starts again.",
        id=location_id,
    )


def watching_takes_no_words(t: Translator) -> str:
    return t._("`/license watching` takes no more words.") + "\n\n" + watch_usage(t)


def takes_one_location(sub: str, t: Translator) -> str:
    return (
        t._("`/license %(sub)s` takes one location id, like `/license %(sub)s 4523464`.", sub=sub)
        + "\n\n"
        + watch_usage(t)
    )


def not_a_location_id(sub: str, word: str, t: Translator) -> str:
    return t._(
        "`%(word)s` is not a location id: ids are whole numbers, like `/license %(sub)s 4523464`.",
        word=quote(word),
        sub=sub,
    )


def nothing_to_watch(location_id: int, t: Translator) -> str:
    return t._("Altegio has no location %(id)s, so there is nothing to watch.", id=location_id)


def not_watching(location_id: int, reason: str, t: Translator) -> str:
    return t._("Not watching location %(id)s: %(reason)s", id=location_id, reason=reason)


def when_alerted(alert_days: tuple[int, ...], t: Translator) -> str:
    """The sentence saying when the channel hears about a watched licence."""
    days = sorted(alert_days, reverse=True)
    if not days:
        return t._("Alerts are posted here when the licence expires or becomes inactive.")
    if len(days) == 1:
        return t.ngettext(
            "Alerts are posted here %(n)s day before the licence lapses, and if it expires.",
            "Alerts are posted here %(n)s days before the licence lapses, and if it expires.",
            days[0],
        )
    return t._(
        "Alerts are posted here %(days)s days before the licence lapses, and if it expires.",
        days=t.join([t.format_number(d) for d in days]),
    )


def watch_added(
    licence: License, today: date, alert_days: tuple[int, ...], t: Translator, *, added: bool
) -> str:
    about = {
        "id": licence.location_id,
        "plan": blocks.escape(licence.plan, blocks.NAME_SHOWN)
        if licence.plan
        else t._("unnamed plan"),
        "date": t.format_date(licence.deactivation_date),
        "state": _state(licence, today, t),
    }
    if not added:
        return t._(
            "This channel already watches location %(id)s "
            "(%(plan)s, deactivation date %(date)s, %(state)s).",
            **about,
        )
    return " ".join(
        (
            t._(
                ":bell: This channel now watches location %(id)s "
                "(%(plan)s, deactivation date %(date)s, %(state)s).",
                **about,
            ),
            when_alerted(alert_days, t),
            t._(
                "If I am not a member of this channel, invite me (`/invite @Altegio`) "
                "so the alerts can reach it."
            ),
        )
    )


def watch_removed(location_id: int, t: Translator, *, removed: bool) -> str:
    if removed:
        return t._("This channel no longer watches location %(id)s.", id=location_id)
    return t._("This channel was not watching location %(id)s.", id=location_id)


@dataclass(frozen=True)
class WatchRow:
    """One line of `/license watching`: the watch, and its licence or why it is unknown."""

    watch: Watch
    licence: License | None = None
    problem: str | None = None


def watch_line(row: WatchRow, today: date, now: datetime, t: Translator) -> str:
    w, lic = row.watch, row.licence
    parts = [t._("*Location %(id)s*", id=w.location_id)]
    if lic is None:
        parts.append(":x: " + (row.problem or t._("unknown")))
    else:
        parts.append(
            blocks.escape(lic.plan, blocks.NAME_SHOWN) if lic.plan else t._("Unnamed plan")
        )
        parts.append(t._("deactivation date %(date)s", date=t.format_date(lic.deactivation_date)))
        left = lic.days_left(today)
        if lic.active:
            state = days_phrase(left, t)
        else:
            state = t._("not active, %(state)s", state=days_phrase(left, t))
        parts.append(f"*{state}*")
        if lic.deactivation_date is not None and w.acknowledged_period == lic.deactivation_date:
            parts.append(":white_check_mark: " + t._("acknowledged"))
    other_period = (
        lic is not None
        and w.snoozed_period is not None
        and w.snoozed_period != lic.deactivation_date
    )
    if w.snoozed_until is not None and w.snoozed_until > now and not other_period:
        parts.append(
            ":zzz: " + t._("snoozed until %(until)s", until=slack_time(w.snoozed_until, t))
        )
    return " · ".join(parts)


def watching_message(
    rows: list[WatchRow], today: date, now: datetime, t: Translator, *, more: int = 0
) -> Message:
    return blocks.message(
        watching_text(rows, t, more=more), _watching_blocks(rows, today, now, t, more=more), t
    )


def _watching_blocks(
    rows: list[WatchRow], today: date, now: datetime, t: Translator, *, more: int = 0
) -> list[Block]:
    if not rows:
        return [
            blocks.section(
                t._("This channel watches no locations. `/license watch <location id>` adds one.")
            )
        ]
    count = len(rows) + more
    title = blocks.section(
        t.ngettext(
            "*This channel watches %(n)s location*", "*This channel watches %(n)s locations*", count
        )
    )
    out = [title]
    # Sections hold at most 3,000 characters: a long list is split across several.
    chunk: list[str] = []
    size = 0
    for row in rows:
        line = watch_line(row, today, now, t)
        if chunk and size + len(line) + 1 > 2900:
            out.append(blocks.section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        out.append(blocks.section("\n".join(chunk)))
    if more:
        out.append(
            blocks.context(
                t.ngettext("…and %(n)s more not shown.", "…and %(n)s more not shown.", more)
            )
        )
    return out


def watching_text(rows: list[WatchRow], t: Translator, *, more: int = 0) -> str:
    if not rows:
        return t._("This channel watches no locations.")
    ids = ", ".join(str(r.watch.location_id) for r in rows)
    return t.ngettext(
        "This channel watches %(n)s location: %(ids)s",
        "This channel watches %(n)s locations: %(ids)s",
        len(rows) + more,
        ids=ids,
    )


def paused_text(location_id: int, user_id: str, t: Translator) -> str:
    """Told once in the channel of a watch whose member no longer has a linked Altegio account
    (an app installed in many workspaces sweeps each watch with its member's own session)."""
    return t._(
        ":double_vertical_bar: Licence alerts for location %(id)s are paused in this "
        "channel: <@%(user)s>, who set them up, no longer has a linked Altegio account. "
        "<@%(user)s> can link it again with `/altegio login`, or anyone here who can see "
        "the location in Altegio can take the alerts over with `/license watch %(id)s`.",
        id=location_id,
        user=user_id,
    )
