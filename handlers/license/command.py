"""/license: show locations' licences, or manage this channel's licence watches."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from api import AuthenticationError, License, NotFound
from handlers.alerts import commands as watch_commands
from handlers.credentials import acting_as
from handlers.deps import deps
from handlers.errors import UsageError, describe
from handlers.license import messages

MAX_LOCATIONS = 10


def parse_location_ids(words: list[str]) -> list[int]:
    """Location ids from the command's words: whole positive numbers, at most ten, no repeats."""
    ids: list[int] = []
    for word in words:
        cleaned = word.strip(",;")
        if not cleaned.isdigit() or not cleaned.isascii() or int(cleaned) == 0 or len(cleaned) > 12:
            raise UsageError(
                f"`{_quote(word)}` is not a location id: ids are whole numbers, "
                f"like `/license 4523464`.\n\n{messages.USAGE}"
            )
        if int(cleaned) not in ids:
            ids.append(int(cleaned))
    if len(ids) > MAX_LOCATIONS:
        raise UsageError(f"That is {len(ids)} locations; ask for {MAX_LOCATIONS} at most at once.")
    return ids


def _quote(word: str) -> str:
    return word.replace("`", "'")[:40]


async def license_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    words = (command.get("text") or "").split()
    if not words or words[0].lower() in {"help", "-h", "--help", "?"}:
        await respond(text=messages.USAGE, response_type="ephemeral")
        return
    sub = words[0].lower()
    if sub in watch_commands.SUBCOMMANDS:
        await watch_commands.run(sub, words[1:], context=context, respond=respond)
        return
    ids = parse_location_ids(words)
    results = await fetch_licences(context, ids)
    today = date.today()
    alert_days = deps(context).config.alert_days
    cards = [
        messages.license_card(r, today, alert_days)
        if isinstance(r, License)
        else messages.failure_card(*r)
        for r in results
    ]
    await respond(
        text=messages.fallback_text(results),
        blocks=messages.license_message(cards),
        response_type="ephemeral",
    )


async def fetch_licences(
    context: AsyncBoltContext, ids: list[int]
) -> list[License | tuple[int, str]]:
    """Each location's licence, or (id, sentence) for one that failed.

    A single location's failure raises, so the one error handler answers; among several,
    each failure becomes a line on its own card.
    """
    altegio = deps(context).altegio
    # The licence call works with the partner token alone in some API versions: a user token
    # is sent when there is one, and a 401 then says which token is missing.
    async with acting_as(context, required=False) as credential:
        raw = await asyncio.gather(
            *(altegio.get_license(i, user_token=credential.token) for i in ids),
            return_exceptions=True,
        )
        auth_errors = [r for r in raw if isinstance(r, AuthenticationError)]
        if auth_errors:
            raise auth_errors[0]
    results: list[License | tuple[int, str]] = []
    for location_id, r in zip(ids, raw, strict=True):
        if isinstance(r, NotFound):
            if len(ids) == 1:
                raise UsageError(f"Altegio has no location {location_id}.")
            results.append((location_id, f"Altegio has no location {location_id}."))
        elif isinstance(r, BaseException):
            if len(ids) == 1 or not isinstance(r, Exception):
                raise r
            results.append((location_id, describe(r)))
        else:
            results.append(r)
    return results
