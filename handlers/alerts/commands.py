"""/license watch|unwatch|watching: which locations a channel hears about before they lapse."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api import AccessDenied, AltegioClient, License, NotFound
from handlers import blocks, input
from handlers.alerts import messages
from handlers.alerts.messages import WatchRow
from handlers.audit import UNWATCH, WATCH, audit
from handlers.blocks import Message
from handlers.config import HandlerConfig
from handlers.credentials import READ, acting_as
from handlers.errors import UsageError, describe
from handlers.i18n import Translator
from handlers.licences import get_licences
from handlers.people import Person
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
    person: Person | None,
    channel: str | None,
    t: Translator,
) -> Message:
    """The reply to `/license <sub> <words>`, run in `channel`, in the language of `t`.
    `person` is who Slack says the user is: it decides whether the shared account may look up
    licences for them."""
    if not channel:
        raise UsageError(messages.watch_needs_channel(t))
    if sub == "watching":
        if words:
            raise UsageError(messages.watching_takes_no_words(t))
        return await watching(altegio, store, config, team, user, person, channel, t)
    location_id = _one_location(sub, words, t)
    if sub == "watch":
        return await watch(altegio, store, config, team, user, person, channel, location_id, t)
    return Message(await unwatch(store, team, user, channel, location_id, t))


def _one_location(sub: str, words: list[str], t: Translator) -> int:
    if len(words) != 1:
        raise UsageError(messages.takes_one_location(sub, t))
    location_id = input.location_id(words[0])
    if location_id is None:
        raise UsageError(messages.not_a_location_id(sub, words[0], t))
    return location_id


async def watch(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    person: Person | None,
    channel: str,
    location_id: int,
    t: Translator,
) -> Message:
    """Subscribe the channel once the user has shown they can see the location in Altegio.
    Its alerts speak the language of `t`, the watcher's: kept with the watch."""
    refusal: UsageError | None = None
    try:
        async with acting_as(
            store,
            config,
            team,
            user,
            purpose=READ,
            person=person,
            required=config.watch_as_member,
        ) as credential:
            licence = await altegio.get_license(location_id, user_token=credential.token)
    except NotFound:
        refusal = UsageError(messages.nothing_to_watch(location_id, t))
        reason = "no such location"
    except AccessDenied as error:
        refusal = UsageError(messages.not_watching(location_id, describe(error, t), t))
        reason = "access denied"
    else:
        added = await store.add_watch(team, channel, location_id, user, locale=t.locale)
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
    text = messages.watch_added(licence, date.today(), config.alert_days, t, added=added)
    if not credential.shared:
        return Message(text)
    return Message(text, blocks.noted(None, text, blocks.shared_account_note(t)))


async def unwatch(
    store: Store, team: str, user: str, channel: str, location_id: int, t: Translator
) -> str:
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
    return messages.watch_removed(location_id, t, removed=removed)


async def watching(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    person: Person | None,
    channel: str,
    t: Translator,
) -> Message:
    """The channel's watches with each licence's days left; one failing location is one line."""
    watches = await store.list_watches(team, channel)
    shown, more = watches[:MAX_LISTED], len(watches) - min(len(watches), MAX_LISTED)
    rows: list[WatchRow] = []
    shared = False
    if shown:
        fetched = await get_licences(
            altegio, store, config, team, user, person, (w.location_id for w in shown)
        )
        shared = fetched.shared
        for w, result in zip(shown, fetched.results, strict=True):
            if isinstance(result, License):
                rows.append(WatchRow(w, licence=result))
            elif isinstance(result, NotFound):
                rows.append(WatchRow(w, problem=messages.no_such_location(t)))
            elif isinstance(result, Exception):
                rows.append(WatchRow(w, problem=describe(result, t)))
            else:
                raise result
    reply = messages.watching_message(rows, date.today(), datetime.now(UTC), t, more=more)
    if not shared:
        return reply
    return Message(
        reply.text, blocks.noted(reply.blocks, reply.text, blocks.shared_account_note(t))
    )
