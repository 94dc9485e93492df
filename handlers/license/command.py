"""/license: show locations' licences, or manage this channel's licence watches."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from api import AltegioClient, License, NotFound
from handlers import blocks, input
from handlers.alerts import commands as watch_commands
from handlers.config import HandlerConfig
from handlers.errors import UsageError, describe, offers_retry, try_again
from handlers.i18n import Translator
from handlers.licences import get_licences
from handlers.license import messages
from handlers.people import People, Person
from handlers.retry import value_of
from handlers.store import Store

MAX_LOCATIONS = 10


def parse_location_ids(words: list[str], t: Translator) -> list[int]:
    """Location ids from the command's words: whole positive numbers, at most ten, no repeats."""
    ids: list[int] = []
    for word in words:
        location_id = input.location_id(word)
        if location_id is None:
            raise UsageError(messages.not_a_location_id(word, t))
        if location_id not in ids:
            ids.append(location_id)
    if len(ids) > MAX_LOCATIONS:
        raise UsageError(messages.too_many_locations(len(ids), MAX_LOCATIONS, t))
    return ids


async def license_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    channel_id: str | None,
    people: People | None,
    client: AsyncWebClient | None,
    t: Translator,
) -> None:
    await ack()
    text = input.from_slack(command.get("text") or "")
    if input.asks_for_help(text):
        await respond(text=messages.usage(t), response_type="ephemeral")
        return
    # Who Slack says the user is decides whether the shared service account may answer them.
    person = await people.person(client, team, user) if people and client else None
    words = text.split()
    sub, rest = input.WATCH.match(words)
    if sub is not None:
        reply = await watch_commands.run(
            sub, rest, altegio, store, config, team, user, person, channel_id, t
        )
        await respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
        return
    ids = parse_location_ids(words, t)
    results, busy, shared = await licences_or_reasons(
        altegio, store, config, team, user, person, ids, t
    )
    reply = messages.license_message(results, date.today(), config.alert_days, t)
    extra: list[blocks.Block] = []
    if shared:  # nobody should take the shared account's answer for what their own would see
        extra.append(blocks.shared_account_note(t))
    retry = value_of("/license", text) if busy else None
    if retry is not None:
        # Some of the locations waited too long for Altegio: one button asks for them all again.
        extra.append(try_again(retry, t))
    card = reply.blocks or [blocks.section(reply.text)]
    card = [*blocks.cap(card, blocks.MESSAGE_BLOCKS - len(extra), t), *extra] if extra else card
    await respond(text=reply.text, blocks=card, response_type="ephemeral")


async def licences_or_reasons(
    altegio: AltegioClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    person: Person | None,
    ids: list[int],
    t: Translator,
) -> tuple[list[License | tuple[int, str]], bool, bool]:
    """Each location's licence, or (id, sentence) for one that failed; whether any failed
    because Altegio was busy (trying again soon may well work); and whether the workspace's
    shared Altegio account looked them up.

    A single location's failure raises, so the one error handler answers; among several,
    each failure becomes a line on its own card.
    """
    fetched = await get_licences(altegio, store, config, team, user, person, ids)
    raw = fetched.results
    busy = any(isinstance(r, Exception) and offers_retry(r) for r in raw)
    results: list[License | tuple[int, str]] = []
    for location_id, r in zip(ids, raw, strict=True):
        if isinstance(r, NotFound):
            if len(ids) == 1:
                raise UsageError(messages.no_such_location(location_id, t))
            results.append((location_id, messages.no_such_location(location_id, t)))
        elif isinstance(r, BaseException):
            if len(ids) == 1 or not isinstance(r, Exception):
                raise r
            results.append((location_id, describe(r, t)))
        else:
            results.append(r)
    return results, busy, fetched.shared
