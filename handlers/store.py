"""What handlers need from the store, as types: the `Store` protocol and the rows it returns.

Handlers never import `bot/`: the store implementation lives there (SQLAlchemy). A listener
receives it as its `store` argument, beside `altegio` (an `api.AltegioClient`) and `config`
(a `handlers.config.HandlerConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class LinkedAccount:
    team_id: str
    user_id: str
    altegio_user_id: int
    name: str
    login: str
    linked_at: datetime
    user_token: str = field(repr=False)  # decrypted by the store; never log it


@dataclass(frozen=True)
class Watch:
    team_id: str
    channel_id: str
    location_id: int
    created_by: str
    created_at: datetime
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    acknowledged_period: date | None = None  # the deactivation date that was acknowledged
    acknowledged_by: str | None = None
    # The language of whoever set up the watch (or watched it again): its alerts speak it.
    # None for watches older than languages: DEFAULT_LOCALE.
    locale: str | None = None
    # The licence period (deactivation date) the snooze is about: it silences that period only.
    # None: no period was known (a snooze from before periods), so it holds whatever the period.
    snoozed_period: date | None = None


@dataclass(frozen=True)
class LicenceSummary:
    """What the alert sweep's last fetch of a location's licence said, so later sweeps can
    skip a licence with no news due (sweep/policy.py). Kept per workspace: whose credential
    fetched it, and who may rely on it, is that workspace's affair."""

    team_id: str
    location_id: int
    deactivation_date: date | None
    active: bool
    fetched_at: datetime
    retry: bool = False  # an alert was due but not posted: fetch again next sweep


# The alert log's team id for an alert claimed for a channel shared between workspaces, beside
# each workspace's own row (sweep/alerts.py). Never a Slack team id (those start with T or E).
SHARED_CHANNEL = "~shared"


@dataclass(frozen=True)
class AlertKey:
    """One alert: a channel hears about a location's licence period once per `kind`.

    `period` is the licence's deactivation date (a renewal starts a new period); `kind` is
    e.g. "days:7", "expired", "inactive" or "snooze:<iso time>".
    """

    team_id: str
    channel_id: str
    location_id: int
    period: date | None
    kind: str


@dataclass(frozen=True)
class AuditEvent:
    """One action with an effect: who, where, what, and how it ended. Never a secret: no
    token, no password, no Altegio login (the Altegio user id names the account)."""

    team_id: str
    user_id: str
    action: str  # link, unlink, watch, unwatch, snooze, acknowledge, photo, install, uninstall
    channel_id: str = ""
    location_id: int | None = None
    target: str = ""  # e.g. "master 17", "altegio user 42"
    file_id: str = ""
    ok: bool = True
    reason: str = ""  # why it was refused, in a few words
    at: datetime | None = None  # set by the store when recorded


class Store(Protocol):
    # Linked Altegio accounts; the user token is encrypted at rest by the store.
    async def save_account(
        self,
        team_id: str,
        user_id: str,
        *,
        altegio_user_id: int,
        name: str,
        login: str,
        user_token: str,
    ) -> LinkedAccount: ...
    async def get_account(self, team_id: str, user_id: str) -> LinkedAccount | None: ...
    async def forget_account(self, team_id: str, user_id: str) -> bool: ...

    # A workspace that left: its installation and every row kept for it, at once. Returns the
    # rows deleted per table.
    async def forget_workspace(self, team_id: str) -> dict[str, int]: ...

    # Slack deliveries: True only for the first caller with this key, in any process.
    async def claim_delivery(self, team_id: str, key: str) -> bool: ...

    # Shared files: an owner token if the caller should upload (first time, the last try
    # failed, or its uploader's lease ran out), else None. Only that owner can finish the claim:
    # finish_file is False (and changes nothing) once another claim has taken the file over.
    async def claim_file(
        self, team_id: str, file_id: str, *, lease_seconds: float = 300
    ) -> str | None: ...
    async def finish_file(
        self, team_id: str, file_id: str, *, owner: str, ok: bool, detail: str = ""
    ) -> bool: ...

    # Watches
    async def add_watch(
        self,
        team_id: str,
        channel_id: str,
        location_id: int,
        user_id: str,
        *,
        locale: str | None = None,
    ) -> bool: ...
    async def remove_watch(self, team_id: str, channel_id: str, location_id: int) -> bool: ...
    async def get_watch(self, team_id: str, channel_id: str, location_id: int) -> Watch | None: ...
    async def list_watches(
        self, team_id: str | None = None, channel_id: str | None = None
    ) -> list[Watch]: ...
    # A snooze or an acknowledgement answers one licence period's alert (`period`, its
    # deactivation date). It is recorded unless the watch holds the answer for another period
    # that is the current one (the sweep's last fetch): acknowledging last year's alert never
    # touches this year's. False: not recorded (not watched, or that other answer stands).
    async def snooze_watch(
        self,
        team_id: str,
        channel_id: str,
        location_id: int,
        *,
        until: datetime,
        user_id: str,
        period: date | None = None,
    ) -> bool: ...
    async def acknowledge_watch(
        self, team_id: str, channel_id: str, location_id: int, *, period: date | None, user_id: str
    ) -> bool: ...
    # The licence period the sweep last saw for the location in this workspace (None: unknown).
    async def current_period(self, team_id: str, location_id: int) -> date | None: ...

    # Alert log: a claim is a lease; complete after Slack accepted the message, release on failure.
    async def claim_alert(
        self, key: AlertKey, *, owner: str, lease_seconds: float = 300
    ) -> bool: ...
    async def complete_alert(self, key: AlertKey, *, message_ts: str) -> None: ...
    async def release_alert(self, key: AlertKey) -> None: ...
    async def sent_alert_kinds(
        self, team_id: str, channel_id: str, location_id: int, period: date | None
    ) -> set[str]: ...

    # The alert sweep's licence summaries, keyed by (team id, location id); saving replaces.
    async def licence_summaries(self) -> dict[tuple[str, int], LicenceSummary]: ...
    async def save_licence_summaries(self, summaries: list[LicenceSummary]) -> None: ...

    # Named leases (e.g. a sweeper's share of the work): True if `name` was free, its lease had
    # run out, or `owner` already held it (then extended). Release hands it back only if `owner`
    # still holds it, so a holder whose lease ran out cannot free a successor's.
    async def claim_lease(self, name: str, *, owner: str, lease_seconds: float) -> bool: ...
    async def release_lease(self, name: str, *, owner: str) -> None: ...

    # Audit trail: one row per action with an effect (handlers.audit records them).
    async def record_audit(self, event: AuditEvent) -> None: ...

    async def ping(self) -> None: ...


class StoreUnavailable(Exception):
    """The store could not be reached; raised by the store so handlers need not know its driver."""
