"""The alert sweep: fetch the watched licences that could have news, post what is due.

Which licences a sweep fetches is sweep/policy.py's `plan`, from what the last fetch of each
said (kept in the store, shared by every sweeper): those near a mark, lapsed or owed an alert,
and the others once per ALERT_REFRESH within a share of Altegio's budget.

A plain async function of its dependencies (no Bolt request), so `altegio-bot alerts` can run it
from cron or a clock process, and tests can call it directly.

Exactly once, across any number of sweepers sharing one database:
- Each alert is claimed in the store (a row with a lease) before it is posted, recorded as sent
  only after Slack accepted it, and released when the post failed, so the next sweep posts it.
  A sweeper killed mid-post leaves a claim that expires after `lease_seconds`; then the alert
  is posted by whichever sweep comes next.
- Kinds an alert makes redundant (larger thresholds) are recorded *before* the alert itself, so
  a sweeper reading the log in between sees the alert still claimed and stays away.
- Sweepers running at the same time also split the Altegio fetches. Locations fall into a fixed
  number of buckets (by a hash of their id, the same in every process); a sweeper leases a
  bucket before fetching its first location and keeps the lease until the sweep ends, so the
  others skip that bucket's locations. All walk the buckets in the same order, so sweepers started
  together take turns at the front. A bucket, not a location, keeps the lease writes to a few
  dozen per sweep however many locations there are. The buckets are the store's named leases,
  held under this sweep's owner id: handed back at the end only if still this sweep's, so a sweep
  that outlived its lease cannot free the bucket for a third while another holds it.

A channel shared between workspaces (Slack Connect) that both installed the app and both watch
the same location hears each alert once. Each workspace's watch keeps its own alert log, snoozes
and acknowledgements, but before posting, a sweep also claims the alert for the channel itself:
the same alert-log key under the team id SHARED_CHANNEL (channel id, location, period, kind),
taken by the same atomic claim, so one post wins across any number of sweepers. The workspace
whose watch claims it first posts with its own bot; the others record it as sent by that post.
Only channels Slack says are shared (conversations.info, with each workspace's own token) are
claimed so: ids of unshared channels are each workspace's own affair.

Pacing is the AltegioClient's limiter (shared through Redis when REDIS_URL is set); the sweep only
keeps enough fetches waiting on it to use every slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from api import AccessDenied, AltegioClient, AltegioError, AuthenticationError, License
from api.errors import PARTNER, USER
from handlers.alerts import messages
from handlers.config import HandlerConfig
from handlers.errors import slack_error
from handlers.i18n import Translator, locale_for, translator
from handlers.refusals import guard_client, sending_as
from handlers.store import (
    SHARED_CHANNEL,
    AlertKey,
    LicenceSummary,
    Store,
    StoreUnavailable,
    Watch,
)
from sweep.policy import Decision, Outcome, decide, needs_renewal, plan, summarise

log = logging.getLogger("altegio.alerts")

# An alert's claim must outlive its slowest post, Slack's 429 and 5xx retries included: posts are
# cut off after POST_TIMEOUT, well inside the lease.
ALERT_LEASE_SECONDS = 600.0
POST_TIMEOUT_SECONDS = 300.0
# Slack allows about one message a second per channel; posts to one channel go one at a time,
# and only a few at once overall.
POST_CONCURRENCY = 8
# Slack errors that mean "this channel cannot take the bot's messages" rather than "try again".
UNREACHABLE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "channel_is_archived"}
)
# Slack errors that mean "this workspace's token is gone" (uninstalled, revoked).
TOKEN_GONE = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
LEASE_BUCKETS = 64
RECORD_ATTEMPTS = 3
# A watch whose member's Altegio session is gone is announced once, under this kind.
PAUSED_PREFIX = "paused:"

# The bot token to post with in a workspace (None: not installed there any more).
BotTokens = Callable[[str], Awaitable[str | None]]
# A fetch unit: a location, seen with one user token (None: the partner token alone).
Unit = tuple[int, str | None]
# Licence summaries noted in one write.
SUMMARY_FLUSH = 500
# Without --every, the sweep is taken to run hourly (cron).
DEFAULT_INTERVAL = timedelta(hours=1)
DEFAULT_REFRESH = timedelta(days=1)
# Refreshes keep a sweep's fetches to this share of Altegio's budget for the interval.
BUDGET_SHARE = 0.09


@dataclass
class SweepSummary:
    watches: int = 0
    locations: int = 0
    fetched: int = 0
    failed: int = 0  # Altegio (or the store) failed for the location: skipped this time
    elsewhere: int = 0  # locations another sweeper running at the same time took
    deferred: int = 0  # not fetched: no news could be due before the next sweep
    new_later: int = 0  # never fetched yet, left to later sweeps (a large first sweep is spread)
    refresh_later: int = 0  # due a refresh, left to later sweeps to keep within the budget
    posted: int = 0
    skipped: int = 0  # due, but snoozed, acknowledged, or being posted by another sweeper
    post_failures: int = 0  # Slack did not take it: released for the next sweep
    unreachable_channels: int = 0  # channels the bot cannot post in (not a member, gone)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"alert sweep: {self.watches} watches, {self.locations} locations "
            f"(fetched {self.fetched}, failed {self.failed}, "
            f"left to other sweepers {self.elsewhere}, not due {self.deferred}, "
            f"first fetch later {self.new_later}, refresh later {self.refresh_later}); "
            f"posted {self.posted}, skipped {self.skipped}, "
            f"post failures {self.post_failures}, "
            f"unreachable channels {self.unreachable_channels}; {self.seconds:.1f} s"
        )


def default_concurrency(altegio: AltegioClient) -> int:
    """Fetches in flight: enough to fill every limiter slot while answers take up to ~1 s, few
    enough that a user's /license waits at most about a second behind the sweep."""
    rate = getattr(altegio.limiter, "rate", None)
    if not rate:
        return 16
    return max(2, min(64, math.ceil(rate) + 2))


def bucket_of(location_id: int) -> int:
    # crc32, not hash(): every process must put a location in the same bucket.
    return zlib.crc32(str(location_id).encode()) % LEASE_BUCKETS


def lease_name(bucket: int) -> str:
    # The bucket count is part of the name: sweepers splitting differently never share a lease.
    return f"alert-sweep/{LEASE_BUCKETS}/{bucket}"


async def sweep(
    altegio: AltegioClient,
    store: Store,
    client: AsyncWebClient,
    config: HandlerConfig,
    *,
    owner: str,
    now: datetime | None = None,
    today: date | None = None,
    concurrency: int | None = None,
    lease_seconds: float = ALERT_LEASE_SECONDS,
    post_timeout: float = POST_TIMEOUT_SECONDS,
    bot_tokens: BotTokens | None = None,
    as_members: bool = False,
    interval: timedelta = DEFAULT_INTERVAL,
    refresh: timedelta = DEFAULT_REFRESH,
    hourly_budget: float | None = None,
) -> SweepSummary:
    """Run one sweep over every watch in the store and return its counts.

    `bot_tokens`: each workspace's bot token, for an app installed in many (None: the client's
    own token). `as_members`: fetch each watch's licence with the linked Altegio session of the
    member who set it up, never a service account; a watch whose member has no session any more
    is announced once in its channel and fetched no more.

    `interval`: how often sweeps run; `refresh`: the longest a licence goes unfetched
    (ALERT_REFRESH). Only licences with news possibly due are fetched (sweep/policy.py); a
    refresh no longer than the interval fetches every licence every sweep. `hourly_budget`:
    Altegio calls an hour allowed (12,000 at 5/s and 200/min); refreshes then keep a sweep under
    BUDGET_SHARE of its interval's part.

    Raises StoreUnavailable only if the watches cannot be read at all; every other failure is
    logged, counted and left for the next sweep.
    """
    run = _Sweep(
        altegio,
        store,
        client,
        config,
        owner=owner,
        now=now or datetime.now(UTC),
        today=today or date.today(),
        concurrency=concurrency or default_concurrency(altegio),
        lease_seconds=lease_seconds,
        post_timeout=min(post_timeout, lease_seconds * 0.8),
        bot_tokens=bot_tokens,
        as_members=as_members,
        interval=interval,
        refresh=refresh,
        budget=(
            None
            if hourly_budget is None
            else max(1, int(BUDGET_SHARE * hourly_budget * (interval / timedelta(hours=1))))
        ),
    )
    return await run.run()


class _Sweep:
    def __init__(
        self,
        altegio: AltegioClient,
        store: Store,
        client: AsyncWebClient,
        config: HandlerConfig,
        *,
        owner: str,
        now: datetime,
        today: date,
        concurrency: int,
        lease_seconds: float,
        post_timeout: float,
        bot_tokens: BotTokens | None = None,
        as_members: bool = False,
        interval: timedelta = DEFAULT_INTERVAL,
        refresh: timedelta = DEFAULT_REFRESH,
        budget: int | None = None,
    ) -> None:
        self.bot_tokens = bot_tokens
        self.as_members = as_members
        self.budget = budget
        self.interval = interval
        self.refresh = refresh
        self.fetched: dict[tuple[str, int], LicenceSummary] = {}
        self.altegio = altegio
        self.store = store
        # An alert Slack refuses for its blocks goes again as its text: what the alert says,
        # without the buttons (there is no command to snooze or acknowledge by).
        self.client = guard_client(client)
        self.config = config
        self.owner = owner
        self.now = now
        self.today = today
        self.concurrency = max(1, concurrency)
        self.lease_seconds = lease_seconds
        self.post_timeout = post_timeout
        self.summary = SweepSummary()
        self.by_unit: dict[Unit, list[Watch]] = defaultdict(list)
        self.buckets: dict[int, asyncio.Task[bool | None]] = {}
        self.unreachable: set[tuple[str, str]] = set()
        self.channel_locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.post_slots = asyncio.Semaphore(POST_CONCURRENCY)
        self.refused_tokens: set[str] = set()
        self.renewal_required: set[int] = set()  # locations Altegio hides until renewed
        # (channel, location) watched from several workspaces -> those workspaces.
        self.watched_from: dict[tuple[str, int], set[str]] = {}
        # (channel, workspaces) -> is the channel shared between them
        self.shared: dict[tuple[str, frozenset[str]], asyncio.Future[bool]] = {}
        self.channel_claims: dict[AlertKey, AlertKey] = {}  # a watch's claim -> its channel's

    async def run(self) -> SweepSummary:
        started = time.monotonic()
        watches = await self.store.list_watches()
        self.summary.watches = len(watches)
        self.summary.locations = len({w.location_id for w in watches})
        paused: list[Watch] = []
        for w, token in await self._credentials(watches):
            if token is None and self.as_members:
                paused.append(w)
            else:
                self.by_unit[w.location_id, token].append(w)
        by_location: dict[int, list[Watch]] = defaultdict(list)
        for (location_id, _), unit_watches in self.by_unit.items():
            by_location[location_id] += unit_watches
        if self.bot_tokens is not None:  # installed in several workspaces
            teams: dict[tuple[str, int], set[str]] = defaultdict(set)
            for w in watches:
                teams[w.channel_id, w.location_id].add(w.team_id)
            self.watched_from = {k: v for k, v in teams.items() if len(v) > 1}
        summaries = await self.store.licence_summaries() if self.refresh > self.interval else {}
        schedule = plan(
            by_location,
            summaries,
            now=self.now,
            today=self.today,
            alert_days=self.config.alert_days,
            interval=self.interval,
            refresh=self.refresh,
            budget=self.budget,
        )
        self.summary.deferred = schedule.deferred
        self.summary.new_later = schedule.new_later
        self.summary.refresh_later = schedule.refresh_later
        if schedule.refresh_later:
            log.warning(
                "alert sweep: %d licences are due their refresh (ALERT_REFRESH) but wait for a "
                "later sweep, to keep the sweep within a tenth of Altegio's budget; with this "
                "many locations, set ALERT_REFRESH to at least %.1f days",
                schedule.refresh_later,
                len(by_location) / (self.budget or 1) * (self.interval / timedelta(days=1)),
            )
        due = set(schedule.fetch)
        units = [u for u in self.by_unit if u[0] in due]
        rate = getattr(self.altegio.limiter, "rate", None) or 50.0
        # Held until this sweep ends, so it must outlast the sweep (see the module docstring).
        self.bucket_lease = self.lease_seconds + 2 * len(units) / rate
        queue = iter(sorted(units, key=lambda u: (bucket_of(u[0]), u[0], u[1] is not None, u[1])))
        try:
            async with asyncio.TaskGroup() as tasks:
                for w in paused:
                    tasks.create_task(self._consider_paused(w))
                for _ in range(min(self.concurrency, len(units))):
                    tasks.create_task(self._fetch_worker(queue, tasks))
        finally:
            await self._save_summaries()
            await self._release_leases()
            self.summary.seconds = time.monotonic() - started
            log.info(self.summary.line())
        return self.summary

    # -- fetching ------------------------------------------------------------------------------

    async def _credentials(self, watches: list[Watch]) -> list[tuple[Watch, str | None]]:
        """Each watch with the Altegio user token its licence is fetched with."""
        if not self.as_members:
            return [(w, self.config.service_user_token) for w in watches]
        tokens: dict[tuple[str, str], str | None] = {}
        for team, user in sorted({(w.team_id, w.created_by) for w in watches}):
            try:
                account = await self.store.get_account(team, user)
            except StoreUnavailable:
                continue  # neither fetched nor announced: the next sweep tries again
            tokens[team, user] = account.user_token if account is not None else None
        return [
            (w, tokens[w.team_id, w.created_by])
            for w in watches
            if (w.team_id, w.created_by) in tokens
        ]

    async def _fetch_worker(self, queue: Iterator[Unit], tasks: asyncio.TaskGroup) -> None:
        for unit in queue:  # one iterator shared by every worker
            location_id, token = unit
            try:
                licence = await self._fetch(location_id, token, tasks)
            except StoreUnavailable:
                self.summary.failed += 1
                log.warning(
                    "alert sweep: location %s skipped: the database is unreachable", location_id
                )
                continue
            except Exception:
                self.summary.failed += 1
                log.exception(
                    "alert sweep: location %s skipped after an unexpected error", location_id
                )
                continue
            if licence is not None:
                tasks.create_task(self._settle(unit, licence))

    async def _fetch(
        self, location_id: int, token: str | None, tasks: asyncio.TaskGroup
    ) -> License | None:
        bucket = bucket_of(location_id)
        claim = self.buckets.get(bucket)
        if claim is None:  # the first of this bucket's locations: claim it once for all
            claim = self.buckets[bucket] = tasks.create_task(self._claim_bucket(bucket))
        held = await asyncio.shield(claim)
        if held is None:
            self.summary.failed += 1
            return None
        if not held:
            self.summary.elsewhere += 1
            return None
        try:
            licence = await self.altegio.get_license(location_id, user_token=token)
        except AltegioError as error:
            if isinstance(error, AccessDenied) and needs_renewal(error.status, error.message):
                # Not a failure to fetch: the answer is that the licence must be renewed.
                log.info("alert sweep: location %s: Altegio says renew the licence", location_id)
                self.summary.fetched += 1
                self.renewal_required.add(location_id)
                return License(id=0, location_id=location_id, active=False)
            self.summary.failed += 1
            # The client blames the user token only once the partner token is proven good, so
            # a refused partner token (or a check Altegio could not answer) forgets nobody.
            if isinstance(error, AuthenticationError) and error.token == USER and self.as_members:
                await self._session_ended(location_id, token)
            elif isinstance(error, AuthenticationError):
                if error.token not in self.refused_tokens:
                    self.refused_tokens.add(error.token)
                    log.error(
                        "alert sweep: Altegio refused the %s; licences cannot be fetched",
                        "partner token (ALTEGIO_PARTNER_TOKEN)"
                        if error.token == PARTNER
                        else "service account token (ALTEGIO_USER_TOKEN)",
                    )
            else:
                log.warning(
                    "alert sweep: location %s skipped: %s: %s",
                    location_id,
                    type(error).__name__,
                    error.message,
                )
            return None
        self.summary.fetched += 1
        return licence

    async def _session_ended(self, location_id: int, token: str | None) -> None:
        """Altegio refused a member's session: forget it, as a command would; the watches it
        served are announced as paused by the next sweep."""
        owners = {(w.team_id, w.created_by) for w in self.by_unit[location_id, token]}
        for team, user in sorted(owners):
            with contextlib.suppress(StoreUnavailable):
                await self.store.forget_account(team, user)
        log.info("alert sweep: Altegio refused a member's session; it is forgotten")

    async def _claim_bucket(self, bucket: int) -> bool | None:
        """True if this sweep now holds the bucket, False if another does, None on failure."""
        try:
            return await self.store.claim_lease(
                lease_name(bucket), owner=self.owner, lease_seconds=self.bucket_lease
            )
        except Exception as error:  # a task of the sweep's group must not raise
            log.warning(
                "alert sweep: could not lease a bucket of locations (%s); they are skipped "
                "this time",
                type(error).__name__,
            )
            return None

    async def _release_leases(self) -> None:
        held = [
            bucket
            for bucket, claim in self.buckets.items()
            if claim.done() and not claim.cancelled() and claim.result()
        ]
        self.buckets.clear()
        for bucket in held:
            try:
                await self.store.release_lease(lease_name(bucket), owner=self.owner)
            except Exception as error:  # the lease then simply runs out
                log.warning(
                    "alert sweep: could not hand back a bucket of locations (%s); other "
                    "sweepers skip it until its lease runs out",
                    type(error).__name__,
                )

    # -- alerting ------------------------------------------------------------------------------

    async def _settle(self, unit: Unit, licence: License) -> None:
        """Alert each watch of the unit, then note what the licence said for later sweeps
        (and whether every alert due went out)."""
        # The sweep's start, not the fetch's own time: a watch added or a snooze ended during
        # the sweep counts as news for the next one.
        fetched_at = self.now
        location_id = unit[0]
        watches = self.by_unit[unit]
        settled = await asyncio.gather(*(self._consider(w, licence) for w in watches))
        unsettled = {w.team_id for w, ok in zip(watches, settled, strict=True) if not ok}
        for team in sorted({w.team_id for w in watches}):
            # Several members' units of one workspace: an alert left unposted by any counts.
            earlier = self.fetched.get((team, location_id))
            retry = team in unsettled or (earlier is not None and earlier.retry)
            self.fetched[team, location_id] = summarise(
                team, location_id, licence, fetched_at, retry=retry
            )
        if len(self.fetched) >= SUMMARY_FLUSH:
            await self._save_summaries()

    async def _save_summaries(self) -> None:
        batch, self.fetched = list(self.fetched.values()), {}
        try:
            await self.store.save_licence_summaries(batch)
        except Exception as error:  # those locations are simply fetched again next sweep
            log.warning(
                "alert sweep: could not note %d fetched licences (%s); they are fetched again "
                "next sweep",
                len(batch),
                type(error).__name__,
            )

    async def _consider(self, watch: Watch, licence: License) -> bool:
        """Alert the watch if due; True once nothing due is left unposted."""
        try:
            return await self._alert(watch, licence)
        except StoreUnavailable:
            self.summary.post_failures += 1
            log.warning(
                "alert sweep: location %s in %s skipped: the database is unreachable",
                watch.location_id,
                watch.channel_id,
            )
        except Exception:
            self.summary.post_failures += 1
            log.exception(
                "alert sweep: location %s in %s failed", watch.location_id, watch.channel_id
            )
        return False

    async def _alert(self, watch: Watch, licence: License) -> bool:
        period = licence.deactivation_date
        sent = await self.store.sent_alert_kinds(
            watch.team_id, watch.channel_id, watch.location_id, period
        )
        decision = decide(
            licence,
            watch,
            sent,
            today=self.today,
            now=self.now,
            alert_days=self.config.alert_days,
            renewal=watch.location_id in self.renewal_required,
        )
        if not decision.posts:
            if decision.outcome is not Outcome.NOTHING_DUE:
                self.summary.skipped += 1
            return True
        assert decision.kind is not None
        key = AlertKey(watch.team_id, watch.channel_id, watch.location_id, period, decision.kind)
        channel = (watch.team_id, watch.channel_id)
        # The claim is taken only once this post's turn has come, so its lease covers the post
        # alone, not the wait behind other posts to the same channel.
        async with self.channel_locks[channel], self.post_slots:
            if channel in self.unreachable:
                self.summary.skipped += 1
                return False
            if not await self.store.claim_alert(
                key, owner=self.owner, lease_seconds=self.lease_seconds
            ):
                self.summary.skipped += 1  # being posted by another sweeper, or already sent
                return False
            if await self._shared(watch):
                claimed = await self._claim_for_channel(key, decision)
                if claimed is not None:
                    self.summary.skipped += 1  # another workspace's bot posts it, or did
                    return claimed
            ts = await self._post(watch, licence, decision, key)
        if ts is None:
            return False
        await self._record(key, decision, ts)
        self.summary.posted += 1
        log.info(
            "alert sweep: posted %s for location %s to %s",
            decision.kind,
            watch.location_id,
            watch.channel_id,
        )
        return True

    async def _post(
        self, watch: Watch, licence: License, decision: Decision, key: AlertKey
    ) -> str | None:
        """Post the claimed alert and return its ts; on failure release the claim, return None."""
        assert decision.kind is not None
        t = self._language(watch)
        return await self._post_message(
            watch,
            key,
            text=messages.alert_text(licence, decision.kind, self.today, t),
            blocks=messages.alert_blocks(
                licence, decision.kind, self.today, t, web_url=self.config.altegio_web_url
            ),
        )

    def _language(self, watch: Watch) -> Translator:
        """A channel's alerts speak the language of whoever set up the watch."""
        return translator(locale_for(watch.locale, self.config.default_locale))

    async def _post_message(
        self, watch: Watch, key: AlertKey, *, text: str, blocks: list[Any] | None
    ) -> str | None:
        """Post to the watch's channel with its workspace's token and return the ts; on
        failure release the claim and return None."""
        channel = (watch.team_id, watch.channel_id)
        token: dict[str, str] = {}
        if self.bot_tokens is not None:
            bot_token = await self.bot_tokens(watch.team_id)
            if bot_token is None:  # uninstalled meanwhile: its watches are being deleted
                await self._release(key)
                self.unreachable.add(channel)
                self.summary.skipped += 1
                return None
            token["token"] = bot_token
        try:
            # Named in the warning if Slack refuses its blocks and it goes as plain text.
            with sending_as(f"alert {key.kind}"):
                async with asyncio.timeout(self.post_timeout):
                    response = await self.client.chat_postMessage(
                        channel=watch.channel_id,
                        text=text,
                        **({"blocks": blocks} if blocks else {}),
                        unfurl_links=False,
                        unfurl_media=False,
                        **token,
                    )
        except asyncio.CancelledError:
            # Stopped mid-post (SIGTERM): hand the alert straight to the next sweep.
            await asyncio.shield(self._release(key))
            raise
        except SlackApiError as error:
            await self._release(key)
            code = slack_error(error)  # None when Slack's answer was not JSON (a proxy's 502)
            if code in TOKEN_GONE:
                self.unreachable.add(channel)
                self.summary.skipped += 1
                log.warning(
                    "alert sweep: Slack refused the bot token of workspace %s (%s); its "
                    "alerts wait until it is installed again",
                    watch.team_id,
                    code,
                )
            elif code in UNREACHABLE:
                self.unreachable.add(channel)
                self.summary.unreachable_channels += 1
                self.summary.skipped += 1
                log.warning(
                    "alert sweep: cannot post in channel %s (%s): invite the bot there, or "
                    "`/license unwatch` its locations; its alerts wait for the next sweep",
                    watch.channel_id,
                    code,
                )
            else:
                self.summary.post_failures += 1
                log.warning(
                    "alert sweep: Slack did not take the alert for location %s in %s "
                    "(%s); the next sweep posts it",
                    watch.location_id,
                    watch.channel_id,
                    code or error,
                )
            return None
        except Exception as error:
            await self._release(key)
            self.summary.post_failures += 1
            log.warning(
                "alert sweep: posting the alert for location %s in %s failed (%s); "
                "the next sweep posts it",
                watch.location_id,
                watch.channel_id,
                type(error).__name__,
            )
            return None
        return str(response.get("ts") or "")

    async def _consider_paused(self, watch: Watch) -> None:
        """Tell the channel once that this watch has no member's session to be swept with."""
        key = AlertKey(
            watch.team_id,
            watch.channel_id,
            watch.location_id,
            None,
            PAUSED_PREFIX + watch.created_by,
        )
        channel = (watch.team_id, watch.channel_id)
        try:
            sent = await self.store.sent_alert_kinds(
                watch.team_id, watch.channel_id, watch.location_id, None
            )
            if key.kind in sent:
                return
            async with self.channel_locks[channel], self.post_slots:
                if channel in self.unreachable or not await self.store.claim_alert(
                    key, owner=self.owner, lease_seconds=self.lease_seconds
                ):
                    self.summary.skipped += 1
                    return
                text = messages.paused_text(
                    watch.location_id, watch.created_by, self._language(watch)
                )
                ts = await self._post_message(watch, key, text=text, blocks=None)
            if ts is not None:
                await self._record(key, Decision(Outcome.POST, key.kind, ()), ts)
                self.summary.posted += 1
        except Exception:
            self.summary.post_failures += 1
            log.exception(
                "alert sweep: the paused notice for location %s in %s failed",
                watch.location_id,
                watch.channel_id,
            )

    # -- channels shared between workspaces -----------------------------------------------------

    async def _shared(self, watch: Watch) -> bool:
        """Whether the watch's channel is one channel shared with another workspace that
        watches the same location, so the alert is claimed for the channel too."""
        teams = self.watched_from.get((watch.channel_id, watch.location_id))
        if not teams:
            return False
        asked = (watch.channel_id, frozenset(teams))
        task = self.shared.get(asked)
        if task is None:  # asked once per sweep, whichever watch asks first
            task = self.shared[asked] = asyncio.ensure_future(
                self._ask_shared(watch.channel_id, sorted(teams))
            )
        return await asyncio.shield(task)

    async def _ask_shared(self, channel_id: str, teams: list[str]) -> bool:
        """True only if Slack says, to every one of these workspaces' bots, that the channel is
        shared. Unsure (an error, a workspace gone): each workspace posts its own alert, as
        for unshared channels; a channel may hear twice but never misses one."""
        assert self.bot_tokens is not None
        for team in teams:
            try:
                token = await self.bot_tokens(team)
                if token is None:
                    return False
                async with asyncio.timeout(self.post_timeout):
                    answer = await self.client.conversations_info(channel=channel_id, token=token)
            except Exception as error:
                reason = slack_error(error) if isinstance(error, SlackApiError) else None
                log.warning(
                    "alert sweep: could not ask Slack whether channel %s is shared (%s); each "
                    "workspace posts its own alerts there this time",
                    channel_id,
                    reason or type(error).__name__,
                )
                return False
            channel = answer.get("channel") or {}
            if not any(channel.get(f) for f in ("is_ext_shared", "is_shared", "is_org_shared")):
                return False
        return True

    async def _claim_for_channel(self, key: AlertKey, decision: Decision) -> bool | None:
        """Claim the watch's claimed alert for its shared channel. None: this sweep posts it.
        Otherwise the watch's own claim is settled and the result is `_alert`'s: True when
        another workspace's post already stands for it (recorded as sent by that post), False
        when another is posting it now (released, for the next sweep to look again)."""
        shared = replace(key, team_id=SHARED_CHANNEL)
        if await self.store.claim_alert(shared, owner=self.owner, lease_seconds=self.lease_seconds):
            self.channel_claims[key] = shared
            return None
        sent = await self.store.sent_alert_kinds(
            SHARED_CHANNEL, key.channel_id, key.location_id, key.period
        )
        if key.kind in sent:
            # The message is out, posted by another workspace's bot: nothing to keep this
            # workspace's ts for.
            await self._record(key, decision, "")
            return True
        await self._release(key)
        return False

    async def _release(self, key: AlertKey) -> None:
        for claim in (key, self.channel_claims.pop(key, None)):
            if claim is None:
                continue
            try:
                await self.store.release_alert(claim)
            except Exception as error:  # the claim's lease runs out instead
                log.warning(
                    "alert sweep: could not release an alert claim (%s); it is retried "
                    "once its lease runs out",
                    type(error).__name__,
                )

    async def _record(self, key: AlertKey, decision: Decision, ts: str) -> None:
        """Record the posted alert, and the kinds it covers first (see the module docstring).

        Slack has the message now: a failure to record would post it again once the claim
        expires, so a brief database hiccup is retried.
        """
        shared = self.channel_claims.pop(key, None)
        # The channel's record first: once the channel is settled, another workspace's sweep
        # records its own watch by it instead of posting.
        for logged in (shared, key):
            if logged is None:
                continue
            for kind in (*decision.covers, key.kind):
                for attempt in range(RECORD_ATTEMPTS):
                    try:
                        await self.store.complete_alert(replace(logged, kind=kind), message_ts=ts)
                        break
                    except StoreUnavailable:
                        if attempt == RECORD_ATTEMPTS - 1:
                            raise
                        await asyncio.sleep(0.5 * 2**attempt)
