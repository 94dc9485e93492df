"""Which alert, if any, a watching channel should get about a licence. Pure: data in, decision out.

Kinds of alert (handlers/alerts/kinds.py), one per channel, location and licence period (the
deactivation date, so a renewal starts afresh).

Also which locations a sweep fetches at all (`plan`, below): only those that could have news.

Only the most urgent kind that has not been sent is posted; the less urgent ones it makes
redundant are recorded as covered by the same message, so a first sweep that finds a licence
already under several thresholds posts once, and never posts the larger thresholds later.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from api import License
from handlers.alerts.kinds import EXPIRED, INACTIVE, RENEWAL, days_kind, snooze_kind
from handlers.store import LicenceSummary, Watch


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
    if watch.snoozed_period is not None and watch.snoozed_period != period:
        # A snooze pressed on another period's alert (last year's, before the renewal) says
        # nothing about this one: its alerts come as if never snoozed.
        snoozed_until = None
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


# -- what a sweep fetches ------------------------------------------------------------------------
#
# A licence is fetched only when the sweep could learn something from it before the next one:
# - a threshold (a days:N mark, or the day after deactivation) falls before the next sweep plus
#   a margin, so each is alerted on its day;
# - it is expired or inactive (a renewal or reactivation is news);
# - an alert was due at the last fetch but not posted (Slack failed, another sweeper held it);
# - a watch was set up, or a snooze ended, since the last fetch (a channel may be owed an alert);
# - its last fetch is older than the refresh time (a renewal, a shortened licence or a
#   deactivation is noticed within it);
# - it has never been fetched (then spread, newest watches first, but only when there are more
#   than one sweep may spend: a set within the sweep's budget is fetched whole by its first sweep).

SWEEP_MARGIN = timedelta(hours=1)  # a slow or late sweep still reaches the threshold in time
MIN_NEW_PER_SWEEP = 1000  # never-seen locations fetched per sweep, at least (and the budget)


class Due(Enum):
    NEAR = "near a threshold"
    LAPSED = "expired or inactive"
    RETRY = "an alert was not posted"
    CHANGED = "a watch was added or a snooze ended"
    STALE = "refresh"
    NEW = "never fetched"


def summarise(
    team_id: str, location_id: int, licence: License, fetched_at: datetime, *, retry: bool = False
) -> LicenceSummary:
    return LicenceSummary(
        team_id, location_id, licence.deactivation_date, licence.active, fetched_at, retry
    )


def next_threshold(
    deactivation: date | None, after: date, alert_days: tuple[int, ...]
) -> date | None:
    """The first day after `after` on which a new kind of alert falls due (None: no date)."""
    if deactivation is None:
        return None
    marks = [deactivation - timedelta(days=n) for n in alert_days]
    marks.append(deactivation + timedelta(days=1))  # expired
    later = [d for d in marks if d > after]
    return min(later) if later else None


def fetch_due(
    summary: LicenceSummary | None,
    watches: list[Watch],
    *,
    now: datetime,
    today: date,
    alert_days: tuple[int, ...],
    interval: timedelta,
    refresh: timedelta,
) -> Due | None:
    """Why this sweep should fetch the licence of a location `watches` watch, or None."""
    if summary is None:
        return Due.NEW
    fetched = summary.fetched_at
    if summary.retry:
        return Due.RETRY
    if not summary.active:
        return Due.LAPSED
    deactivation = summary.deactivation_date
    if deactivation is not None and deactivation < today:
        return Due.LAPSED
    for w in watches:
        if w.created_at > fetched or (
            w.snoozed_until is not None and fetched < w.snoozed_until <= now
        ):
            return Due.CHANGED
    # The first mark after the day of the last fetch: one passed since (the sweeper was down
    # over midnight) is due at once.
    threshold = next_threshold(deactivation, min(_local_day(fetched), today), alert_days)
    # Days begin at midnight where the sweep runs (`today` is its local date).
    if (
        threshold is not None
        and timedelta(days=(threshold - today).days) - _into_day(now) <= interval + SWEEP_MARGIN
    ):
        return Due.NEAR
    if now + interval >= fetched + refresh:  # the next sweep would be too late
        return Due.STALE
    return None


@functools.lru_cache(maxsize=4096)
def _local_day(moment: datetime) -> date:
    return moment.astimezone().date()


@functools.lru_cache(maxsize=16)
def _into_day(moment: datetime) -> timedelta:
    local = moment.astimezone()
    return local - local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Plan:
    fetch: list[int]  # locations to fetch this sweep, in no particular order
    due: dict[Due, int]  # how many for each reason
    deferred: int  # not due this sweep
    new_later: int  # never fetched, left to later sweeps
    refresh_later: int = 0  # due a refresh, left to later sweeps by the budget


def plan(
    by_location: dict[int, list[Watch]],
    summaries: dict[tuple[str, int], LicenceSummary],
    *,
    now: datetime,
    today: date,
    alert_days: tuple[int, ...],
    interval: timedelta,
    refresh: timedelta,
    budget: int | None = None,
) -> Plan:
    """Which watched locations this sweep fetches.

    Summaries are kept per workspace (team id): a location watched from several workspaces is
    due if any of them is due. `budget`: the fetches this sweep should make at most (None: no
    bound); refreshes get what the others leave, the longest unfetched first, and the rest wait.
    Never-fetched locations are spread by `new_per_sweep` instead, only when they are more than
    the budget (and MIN_NEW_PER_SWEEP).
    """
    fetch: list[int] = []
    new: list[tuple[datetime, int]] = []
    stale: list[tuple[datetime, int]] = []
    due: dict[Due, int] = {}
    for location_id, watches in by_location.items():
        teams = {w.team_id for w in watches}
        reasons = set()
        for team in teams:
            mine = watches if len(teams) == 1 else [w for w in watches if w.team_id == team]
            reason = fetch_due(
                summaries.get((team, location_id)),
                mine,
                now=now,
                today=today,
                alert_days=alert_days,
                interval=interval,
                refresh=refresh,
            )
            if reason is not None:
                reasons.add(reason)
        if not reasons:
            continue
        if reasons == {Due.NEW}:
            new.append((max(w.created_at for w in watches), location_id))
            continue
        if reasons == {Due.STALE}:
            oldest = min(
                summaries[team, location_id].fetched_at
                for team in teams
                if (team, location_id) in summaries
            )
            stale.append((oldest, location_id))
            continue
        reason = min(reasons, key=list(Due).index)
        due[reason] = due.get(reason, 0) + 1
        fetch.append(location_id)
    # Never-fetched locations (the first sweep of a large set): spread over the refresh time so
    # they never take a whole hour's budget, the newest watches first (someone just set them up).
    stale.sort()
    kept = stale if budget is None else stale[: max(0, budget - len(fetch))]
    if kept:
        due[Due.STALE] = len(kept)
    fetch += [location_id for _, location_id in kept]
    cap = new_per_sweep(len(by_location), interval=interval, refresh=refresh, budget=budget)
    new.sort(reverse=True)
    taken = [location_id for _, location_id in new[:cap]]
    if taken:
        due[Due.NEW] = len(taken)
    fetch += taken
    return Plan(
        fetch=fetch,
        due=due,
        deferred=len(by_location) - len(fetch),
        new_later=len(new) - len(taken),
        refresh_later=len(stale) - len(kept),
    )


def new_per_sweep(
    locations: int, *, interval: timedelta, refresh: timedelta, budget: int | None = None
) -> int:
    """Never-fetched locations a sweep takes: the whole set over one refresh time, and at least
    what one sweep may spend (`budget`, or MIN_NEW_PER_SWEEP if that is more): spreading only
    starts past that, so a set the sweep can afford is fetched whole by its first sweep."""
    if refresh <= interval:
        return locations
    sweeps = refresh / interval
    return max(MIN_NEW_PER_SWEEP, budget or 0, math.ceil(locations / sweeps))
