"""What no feature listens for still gets an answer, so Slack shows no error and retries nothing.

Registered after every feature's listeners (Bolt runs the first that matches); features match
only what they handle, so their own order does not matter.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck

from handlers.registry import Listeners

log = logging.getLogger("altegio.handlers")


async def acknowledge_only(ack: AsyncAck, body: dict[str, Any]) -> None:
    """A click no feature listens for: a link button, or a message from an older version.

    Without an ack Bolt answers 404 and Slack shows the user a warning; there is nothing to do.
    """
    await ack()
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    action_id = action.get("action_id") if isinstance(action, dict) else None
    log.info("ignored a click on %r", str(action_id)[:40])


async def ignore_message() -> None:
    """Message events no feature handles: plain messages, edits, the bot's own replies."""


def register(listeners: Listeners) -> None:
    listeners.action(re.compile(""), acknowledge_only)
    listeners.event("message", ignore_message)
