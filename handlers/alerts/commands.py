"""/license watch|unwatch|watching: which locations a channel hears about before they lapse."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from slack_bolt.async_app import AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from api import AccessDenied, AuthenticationError, License, NotFound
from handlers.alerts import messages
from handlers.alerts.messages import WatchRow
from handlers.credentials import acting_as
from handlers.deps import deps, team_of
from handlers.errors import UsageError, describe

SUBCOMMANDS = frozenset({"watch", "unwatch", "watching"})
# `/license watching` fetches every licence it lists; past this many it lists ids only.
MAX_LISTED = 40


async def run(
    sub: str, words: list[str], *, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    channel = context.channel_id
    if not channel:
        raise UsageError("Licence watches belong to a channel: run this in the channel to alert.")
    if sub == "watch":
        text = await watch(context, channel, _one_location(sub, words))
    elif sub == "unwatch":
        text = await unwatch(context, channel, _one_location(sub, words))
    else:
        if words:
            raise UsageError(f"`/license watching` takes no more words.\n\n{messages.WATCH_USAGE}")
        await respond(**await watching(context, channel), response_type="ephemeral")
        return
    await respond(text=text, response_type="ephemeral")


def _one_location(sub: str, words: list[str]) -> int:
    if len(words) != 1:
        raise UsageError(
            f"`/license {sub}` takes one location id, like `/license {sub} 4523464`.\n\n"
            f"{messages.WATCH_USAGE}"
        )
    word = words[0].strip(",;")
    if not (word.isascii() and word.isdigit()) or int(word) == 0 or len(word) > 12:
        shown = words[0].replace("`", "'")[:40]
        raise UsageError(
            f"`{shown}` is not a location id: ids are whole numbers, like `/license {sub} 4523464`."
        )
    return int(word)


async def watch(context: AsyncBoltContext, channel: str, location_id: int) -> str:
    """Subscribe the channel once the user has shown they can see the location in Altegio."""
    d = deps(context)
    try:
        async with acting_as(context, required=False) as credential:
            licence = await d.altegio.get_license(location_id, user_token=credential.token)
    except NotFound:
        raise UsageError(
            f"Altegio has no location {location_id}, so there is nothing to watch."
        ) from None
    except AccessDenied as error:
        raise UsageError(f"Not watching location {location_id}: {describe(error)}") from None
    added = await d.store.add_watch(team_of(context), channel, location_id, context.user_id or "")
    return messages.watch_added(licence, date.today(), d.config.alert_days, added=added)


async def unwatch(context: AsyncBoltContext, channel: str, location_id: int) -> str:
    removed = await deps(context).store.remove_watch(team_of(context), channel, location_id)
    return messages.watch_removed(location_id, removed=removed)


async def watching(context: AsyncBoltContext, channel: str) -> dict[str, object]:
    """The channel's watches with each licence's days left; one failing location is one line."""
    d = deps(context)
    watches = await d.store.list_watches(team_of(context), channel)
    shown, more = watches[:MAX_LISTED], len(watches) - min(len(watches), MAX_LISTED)
    rows: list[WatchRow] = []
    if shown:
        async with acting_as(context, required=False) as credential:
            # The client's limiter paces these; gather only lets them queue together.
            raw = await asyncio.gather(
                *(d.altegio.get_license(w.location_id, user_token=credential.token) for w in shown),
                return_exceptions=True,
            )
            refused = [r for r in raw if isinstance(r, AuthenticationError)]
            if refused:
                raise refused[0]
        for w, result in zip(shown, raw, strict=True):
            if isinstance(result, License):
                rows.append(WatchRow(w, licence=result))
            elif isinstance(result, NotFound):
                rows.append(WatchRow(w, problem="Altegio has no such location."))
            elif isinstance(result, Exception):
                rows.append(WatchRow(w, problem=describe(result)))
            else:
                raise result
    today, now = date.today(), datetime.now(UTC)
    return {
        "text": messages.watching_text(rows, more=more),
        "blocks": messages.watching_message(rows, today, now, more=more),
    }
