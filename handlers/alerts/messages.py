"""Block Kit for licence alerts and watches. Pure functions: data in, blocks out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from api import License
from handlers import blocks
from handlers.alerts.kinds import EXPIRED, INACTIVE, RENEWAL, SNOOZE_PREFIX, threshold_of
from handlers.blocks import Block, Message
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

WATCH_USAGE = (
    "`/license watch <location id>` — alert this channel before the licence lapses\n"
    "`/license unwatch <location id>` — stop those alerts\n"
    "`/license watching` — list the locations this channel watches"
)


def fmt_date(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def days_phrase(left: int | None) -> str:
    if left is None:
        return "no deactivation date"
    if left < 0:
        return f"expired {plural(-left, 'day')} ago"
    if left == 0:
        return "lapses today"
    return f"{plural(left, 'day')} left"


def slack_time(moment: datetime) -> str:
    """A time each reader sees in their own time zone (UTC as the fallback text)."""
    fallback = moment.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def button_value(location_id: int, period: date | None) -> str:
    return f"{location_id}:{period.isoformat() if period else 'none'}"


def parse_button_value(value: str | None) -> tuple[int, date | None] | None:
    """(location id, licence period) from a button's value, or None if it is not ours."""
    location, _, period = (value or "").partition(":")
    if not location.isdigit():
        return None
    if period == "none":
        return int(location), None
    try:
        return int(location), date.fromisoformat(period)
    except ValueError:
        return None


# -- the alert ------------------------------------------------------------------------------------


def headline(licence: License, kind: str, today: date) -> str:
    where = f"*Location {licence.location_id}*"
    left = licence.days_left(today)
    if kind == EXPIRED:
        return f":red_circle: {where}: the Altegio licence {days_phrase(left)}."
    if kind == INACTIVE:
        return f":red_circle: {where}: the Altegio licence is not active."
    if kind == RENEWAL:
        return f":red_circle: {where}: Altegio says the licence must be renewed."
    if kind.startswith(SNOOZE_PREFIX):
        state = "is not active" if not licence.active else days_phrase(left)
        return f":alarm_clock: Snooze over — {where}: the Altegio licence {state}."
    if left == 0:
        return f":warning: {where}: the Altegio licence lapses *today*."
    return f":warning: {where}: the Altegio licence lapses in *{plural(left or 0, 'day')}*."


def alert_text(licence: License, kind: str, today: date) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    if kind == RENEWAL:
        return f"Location {licence.location_id}: Altegio says the licence must be renewed."
    plan = blocks.escape(licence.plan or "unnamed plan")
    state = "not active" if not licence.active else days_phrase(licence.days_left(today))
    return (
        f"Location {licence.location_id}: Altegio licence ({plan}) {state}, "
        f"deactivation date {fmt_date(licence.deactivation_date)}."
    )


def alert_actions(
    location_id: int, period: date | None, web_url: str, *, acknowledged: bool
) -> Block:
    value = button_value(location_id, period)
    link = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open Altegio", "emoji": True},
        "action_id": OPEN_ALTEGIO,
        "url": web_url,
    }
    if acknowledged:
        return blocks.actions(link, block_id=ACTIONS_BLOCK)
    return blocks.actions(
        blocks.button("Snooze 1 day", SNOOZE_1D, value),
        blocks.button("Snooze 7 days", SNOOZE_7D, value),
        blocks.button("Acknowledge", ACKNOWLEDGE, value, style="primary"),
        link,
        block_id=ACTIONS_BLOCK,
    )


def alert_blocks(licence: License, kind: str, today: date, *, web_url: str) -> list[Block]:
    left = licence.days_left(today)
    threshold = threshold_of(kind)
    why = (
        f"Sent because {plural(threshold, 'day')} or fewer were left."
        if threshold is not None
        else "Sent once for this licence period."
    )
    body = blocks.section(headline(licence, kind, today))
    body["block_id"] = BODY_BLOCK
    return [
        body,
        blocks.fields(
            [
                ("Location", str(licence.location_id)),
                ("Plan", blocks.escape(licence.plan or "Unnamed plan")),
                ("Deactivation date", fmt_date(licence.deactivation_date)),
                ("Days left", days_phrase(left) if left is not None else "—"),
            ]
        ),
        blocks.context(
            f"{why} Snooze to hear again later, or acknowledge to stop reminders until the "
            f"licence is renewed. `/license unwatch {licence.location_id}` stops all alerts."
        ),
        alert_actions(licence.location_id, licence.deactivation_date, web_url, acknowledged=False),
    ]


# -- after a click --------------------------------------------------------------------------------


def snoozed_status(user_id: str, until: datetime, at: datetime) -> str:
    return f":zzz: Snoozed by <@{user_id}> {slack_time(at)}, until {slack_time(until)}."


def acknowledged_status(user_id: str, at: datetime) -> str:
    return (
        f":white_check_mark: Acknowledged by <@{user_id}> {slack_time(at)}: "
        "no more reminders until the licence is renewed."
    )


def alert_after_click(
    original: list[Block],
    *,
    status: str,
    location_id: int,
    period: date | None,
    web_url: str,
    acknowledged: bool,
) -> list[Block]:
    """The alert as it was, with who did what and when in place of the last status line."""
    kept = [b for b in original if b.get("block_id") not in (STATUS_BLOCK, ACTIONS_BLOCK)]
    line = blocks.context(status)
    line["block_id"] = STATUS_BLOCK
    return [
        *kept,
        line,
        alert_actions(location_id, period, web_url, acknowledged=acknowledged),
    ]


# -- command replies -------------------------------------------------------------------------------


WATCH_NEEDS_CHANNEL = "Licence watches belong to a channel: run this in the channel to alert."
NO_SUCH_LOCATION = "Altegio has no such location."
STALE_BUTTON = "That button no longer matches an alert I can update."


def no_longer_watched(location_id: int) -> str:
    return (
        f"This channel no longer watches location {location_id}, so there is nothing to change. "
        f"`/license watch {location_id}` starts again."
    )


def watching_takes_no_words() -> str:
    return f"`/license watching` takes no more words.\n\n{WATCH_USAGE}"


def takes_one_location(sub: str) -> str:
    return (
        f"`/license {sub}` takes one location id, like `/license {sub} 4523464`.\n\n{WATCH_USAGE}"
    )


def not_a_location_id(sub: str, word: str) -> str:
    return (
        f"`{quote(word)}` is not a location id: ids are whole numbers, "
        f"like `/license {sub} 4523464`."
    )


def nothing_to_watch(location_id: int) -> str:
    return f"Altegio has no location {location_id}, so there is nothing to watch."


def not_watching(location_id: int, reason: str) -> str:
    return f"Not watching location {location_id}: {reason}"


def thresholds_phrase(alert_days: tuple[int, ...]) -> str:
    days = sorted(alert_days, reverse=True)
    if not days:
        return "when it expires or becomes inactive"
    listed = ", ".join(str(d) for d in days[:-1])
    listed = f"{listed} and {days[-1]}" if listed else str(days[-1])
    return f"{listed} day{'s' if days != [1] else ''} before it lapses, and if it expires"


def watch_added(licence: License, today: date, alert_days: tuple[int, ...], *, added: bool) -> str:
    state = "not active" if not licence.active else days_phrase(licence.days_left(today))
    about = (
        f"location {licence.location_id} ({blocks.escape(licence.plan or 'unnamed plan')}, "
        f"deactivation date {fmt_date(licence.deactivation_date)}, {state})"
    )
    if not added:
        return f"This channel already watches {about}."
    return (
        f":bell: This channel now watches {about}. Alerts are posted here "
        f"{thresholds_phrase(alert_days)}. If I am not a member of this channel, "
        "invite me (`/invite @Altegio`) so the alerts can reach it."
    )


def watch_removed(location_id: int, *, removed: bool) -> str:
    if removed:
        return f"This channel no longer watches location {location_id}."
    return f"This channel was not watching location {location_id}."


@dataclass(frozen=True)
class WatchRow:
    """One line of `/license watching`: the watch, and its licence or why it is unknown."""

    watch: Watch
    licence: License | None = None
    problem: str | None = None


def watch_line(row: WatchRow, today: date, now: datetime) -> str:
    w, lic = row.watch, row.licence
    parts = [f"*Location {w.location_id}*"]
    if lic is None:
        parts.append(f":x: {row.problem or 'unknown'}")
    else:
        parts.append(blocks.escape(lic.plan or "Unnamed plan"))
        parts.append(f"deactivation date {fmt_date(lic.deactivation_date)}")
        left = lic.days_left(today)
        state = days_phrase(left) if lic.active else f"not active, {days_phrase(left)}"
        parts.append(f"*{state}*")
        if lic.deactivation_date is not None and w.acknowledged_period == lic.deactivation_date:
            parts.append(":white_check_mark: acknowledged")
    if w.snoozed_until is not None and w.snoozed_until > now:
        parts.append(f":zzz: snoozed until {slack_time(w.snoozed_until)}")
    return " · ".join(parts)


def watching_message(rows: list[WatchRow], today: date, now: datetime, *, more: int = 0) -> Message:
    return Message(watching_text(rows, more=more), _watching_blocks(rows, today, now, more=more))


def _watching_blocks(
    rows: list[WatchRow], today: date, now: datetime, *, more: int = 0
) -> list[Block]:
    if not rows:
        return [
            blocks.section(
                "This channel watches no locations. `/license watch <location id>` adds one."
            )
        ]
    title = blocks.section(f"*This channel watches {plural(len(rows) + more, 'location')}*")
    out = [title]
    # Sections hold at most 3,000 characters: a long list is split across several.
    chunk: list[str] = []
    size = 0
    for row in rows:
        line = watch_line(row, today, now)
        if chunk and size + len(line) + 1 > 2900:
            out.append(blocks.section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        out.append(blocks.section("\n".join(chunk)))
    if more:
        out.append(blocks.context(f"…and {more} more not shown."))
    return out


def watching_text(rows: list[WatchRow], *, more: int = 0) -> str:
    if not rows:
        return "This channel watches no locations."
    ids = ", ".join(str(r.watch.location_id) for r in rows)
    return f"This channel watches {plural(len(rows) + more, 'location')}: {ids}"


def paused_text(location_id: int, user_id: str) -> str:
    """Told once in the channel of a watch whose member no longer has a linked Altegio account
    (an app installed in many workspaces sweeps each watch with its member's own session)."""
    return (
        f":double_vertical_bar: Licence alerts for location {location_id} are paused in this "
        f"channel: <@{user_id}>, who set them up, no longer has a linked Altegio account. "
        f"<@{user_id}> can link it again with `/altegio login`, or anyone here who can see "
        f"the location in Altegio can take the alerts over with "
        f"`/license watch {location_id}`."
    )
