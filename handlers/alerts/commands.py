"""/license watch|unwatch|watching: which locations a channel hears about before they lapse."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api import AccessDenied, AltegioClient, License, NotFound
from handlers import input
from handlers.alerts import messages
from handlers.alerts.messages import WatchRow
from handlers.audit import UNWATCH, WATCH, audit
from handlers.blocks import Message
from handlers.config import HandlerConfig
from handlers.credentials import acting_as
from handlers.errors import UsageError, describe
from handlers.licences import get_licences
from handlers.store import Store

# `/license watching` fetches every licence it lists; past this many it lists ids only.
MAX_LISTED = 40


async def run(
    sub: str,
    words: list[str],
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    channel: str | None,
) -> Message:
    """The reply to `/license <sub> <words>`, run in `channel`."""
    if not channel:
        raise UsageError(messages.WATCH_NEEDS_CHANNEL)
    if sub == "watching":
        if words:
            raise UsageError(messages.watching_takes_no_words())
        return await watching(altegio, store, config, team, user, channel)
    location_id = _one_location(sub, words)
    if sub == "watch":
        return Message(await watch(altegio, store, config, team, user, channel, location_id))
    return Message(await unwatch(store, team, user, channel, location_id))


def _one_location(sub: str, words: list[str]) -> int:
    if len(words) != 1:
        raise UsageError(messages.takes_one_location(sub))
    location_id = input.location_id(words[0])
    if location_id is None:
        raise UsageError(messages.not_a_location_id(sub, words[0]))
    return location_id


async def watch(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    channel: str,
    location_id: int,
) -> str:
    """Subscribe the channel once the user has shown they can see the location in Altegio."""
    refusal: UsageError | None = None
    try:
        async with acting_as(
            store, config, team, user, required=config.watch_as_member
        ) as credential:
            licence = await altegio.get_license(location_id, user_token=credential.token)
    except NotFound:
        refusal, reason = UsageError(messages.nothing_to_watch(location_id)), "no such location"
    except AccessDenied as error:
        refusal = UsageError(messages.not_watching(location_id, describe(error)))
        reason = "access denied"
    else:
        added = await store.add_watch(team, channel, location_id, user)
        reason = "" if added else "watched already"
    await audit(
        store,
        team,
        user,
        WATCH,
        channel=channel,
        location_id=location_id,
        ok=refusal is None,
        reason=reason,
    )
    if refusal is not None:
        raise refusal
    return messages.watch_added(licence, date.today(), config.alert_days, added=added)


async def unwatch(store: Store, team: str, user: str, channel: str, location_id: int) -> str:
    removed = await store.remove_watch(team, channel, location_id)
    await audit(
        store,
        team,
        user,
        UNWATCH,
        channel=channel,
        location_id=location_id,
        reason="" if removed else "not watched",
    )
    return messages.watch_removed(location_id, removed=removed)


async def watching(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    channel: str,
) -> Message:
    """The channel's watches with each licence's days left; one failing location is one line."""
    watches = await store.list_watches(team, channel)
    shown, more = watches[:MAX_LISTED], len(watches) - min(len(watches), MAX_LISTED)
    rows: list[WatchRow] = []
    if shown:
        raw = await get_licences(altegio, store, config, team, user, (w.location_id for w in shown))
        for w, result in zip(shown, raw, strict=True):
            if isinstance(result, License):
                rows.append(WatchRow(w, licence=result))
            elif isinstance(result, NotFound):
                rows.append(WatchRow(w, problem=messages.NO_SUCH_LOCATION))
            elif isinstance(result, Exception):
                rows.append(WatchRow(w, problem=describe(result)))
            else:
                raise result
    return messages.watching_message(rows, date.today(), datetime.now(UTC), more=more)
