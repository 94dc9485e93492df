"""A workspace leaving: `app_uninstalled` and `tokens_revoked` delete what was kept for it.

Slack may send both, in either order, and more than once; each deletion is one statement per
table keyed by the workspace, so a repeat finds nothing and touches no other workspace. The
database is the only record of an installation (every request and every sweep reads it there),
so what one process deletes, every process stops using at once.
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.audit import UNINSTALL, audit
from handlers.registry import Listeners
from handlers.store import Store

log = logging.getLogger("altegio.handlers")


async def app_uninstalled(store: Store, team: str) -> None:
    await _forget_workspace(store, team, "the app was uninstalled")


async def tokens_revoked(event: dict[str, Any], store: Store, team: str) -> None:
    tokens = event.get("tokens") or {}
    if tokens.get("bot"):
        # Without its bot token the app can do nothing there: the same as an uninstall.
        await _forget_workspace(store, team, "its bot token was revoked")
    for user_id in tokens.get("oauth") or ():
        # The person's own grant is gone: so is what the bot kept for them, their Altegio link.
        if await store.forget_account(team, str(user_id)):
            log.info("forgot the Altegio session of a user whose tokens were revoked")


async def _forget_workspace(store: Store, team: str, why: str) -> None:
    if not team:
        return
    deleted = await store.forget_workspace(team)
    if any(deleted.values()):  # Slack's repeats find nothing left: recorded once
        await audit(store, team, "", UNINSTALL, reason=why)
    log.info(
        "workspace %s: %s; deleted %s",
        team,
        why,
        ", ".join(f"{n} {table}" for table, n in deleted.items()) or "nothing",
    )


def register(listeners: Listeners) -> None:
    listeners.event("app_uninstalled", app_uninstalled)
    listeners.event("tokens_revoked", tokens_revoked)
