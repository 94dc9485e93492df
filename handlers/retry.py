"""Try again: a command answered "Altegio is busy" runs again when its button is pressed.

A command registered with `Listeners.command(..., retry=True)` whose answer is that Altegio is
busy (its lane's longest wait passed, or Altegio kept answering 429) gets a Try again button
carrying the command and its text (`/license 4523464`). Pressing it runs that command's
listener again, as whoever pressed it, in the channel of the message, and the answer replaces the
private message with the button. The value comes back from Slack like any input: the command
must be one registered for retries, and its text is checked again by the command itself.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from handlers.errors import MAX_RETRY_VALUE, UsageError, answer_error
from handlers.i18n import N_, Translator

log = logging.getLogger("altegio.handlers")

Listener = Callable[..., Awaitable[Any]]

NO_LONGER_WORKS = N_("This button no longer works. Run the command again, please.")

# What a retried listener may ask for; the button's own listener names each of them.
PASSED = frozenset(
    {"ack", "command", "respond", "body", "client", "altegio", "store", "config", "team"}
    | {"user", "channel_id", "context", "people", "t"}
)


def value_of(command: str, text: str) -> str | None:
    """The button's value for a command and its text; None when it does not fit in one."""
    value = f"{command} {text.strip()}".strip()
    return value if len(value) <= MAX_RETRY_VALUE else None


def check_retryable(name: str, listener: Listener) -> None:
    """At registration: a retried listener can be given everything it asks for."""
    asked = {n for n in inspect.getfullargspec(listener).args if n not in ("self", "cls")}
    if asked - PASSED:
        raise TypeError(f"{name} cannot be retried: it asks for {sorted(asked - PASSED)}")


def retry_listener(commands: Mapping[str, Listener]) -> Listener:
    """The Try again button's listener, for the commands registered with retries."""

    async def retry_command(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: Any,
        altegio: Any,
        store: Any,
        config: Any,
        team: str,
        user: str,
        channel_id: str | None,
        context: AsyncBoltContext,
        t: Translator,
    ) -> None:
        await ack()
        value = action.get("value")
        name, _, text = value.partition(" ") if isinstance(value, str) else ("", "", "")
        listener = commands.get(name)
        if listener is None or len(value) > MAX_RETRY_VALUE:
            log.info("refused a Try again button with an unknown command")
            raise UsageError(t._(NO_LONGER_WORKS))

        async def replacing(text: str = "", **fields: Any) -> Any:
            # The private message with the button is what this answer stands for: replace it.
            return await respond(text=text, **{**fields, "replace_original": True})

        async def acked(*args: Any, **kwargs: Any) -> None:
            return None  # the click was acknowledged above

        command = {
            "command": name,
            "text": text,
            "user_id": user,
            "channel_id": channel_id or "",
            "team_id": context.team_id or "",
            "response_url": body.get("response_url") or context.response_url or "",
        }
        given = {
            "ack": acked,
            "command": command,
            "respond": replacing,
            "body": body,
            "client": client,
            "altegio": altegio,
            "store": store,
            "config": config,
            "team": team,
            "user": user,
            "channel_id": channel_id,
            "context": context,
            "people": context.get("people"),
            "t": t,
        }
        asked = [n for n in inspect.getfullargspec(listener).args if n not in ("self", "cls")]
        try:
            await listener(**{n: given[n] for n in asked})
        except Exception as error:
            await answer_error(error, context, retry=value_of(name, text), replace=True)

    return retry_command
