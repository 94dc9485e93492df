"""The audit trail: one call per action with an effect, at the place the outcome is known.

Recording never stands in the way of the action: a store that cannot write the row is logged
and the person still gets their answer. Installing and uninstalling the app are recorded the same
way, by whatever handles them: `await audit(store, team, user, INSTALL)` (user: who installed, or
"" when Slack does not say).
"""

from __future__ import annotations

import logging

from handlers.store import AuditEvent, Store

log = logging.getLogger("altegio.audit")

# The actions recorded, as stored and printed by `altegio-bot audit`.
LINK, UNLINK = "link", "unlink"
WATCH, UNWATCH = "watch", "unwatch"
SNOOZE, ACKNOWLEDGE = "snooze", "acknowledge"
PHOTO = "photo"
INSTALL, UNINSTALL = "install", "uninstall"

MAX_REASON = 200


async def audit(
    store: Store,
    team: str,
    user: str,
    action: str,
    *,
    channel: str = "",
    location_id: int | None = None,
    target: str = "",
    file_id: str = "",
    ok: bool = True,
    reason: str = "",
) -> None:
    event = AuditEvent(
        team_id=team or "",
        user_id=user or "",
        action=action,
        channel_id=channel or "",
        location_id=location_id,
        target=target,
        file_id=file_id,
        ok=ok,
        reason=" ".join(reason.split())[:MAX_REASON],
    )
    try:
        await store.record_audit(event)
    except Exception as exc:
        log.warning("could not record %s in the audit trail: %s", action, type(exc).__name__)
