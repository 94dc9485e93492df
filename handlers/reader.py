"""Which language a listener answers in: its user's Slack locale, else DEFAULT_LOCALE.

A listener names a `t` argument (a `handlers.i18n.Translator`) and `handlers.registry.guarded`
hands it the one for the person who acted; the error handler answers in the same language.
The locale comes from the app's `People` (`users.info` with `include_locale`, cached per
workspace and user). A slow or failing `users.info` never holds up or breaks a reply: after
LOCALE_WAIT the answer is in DEFAULT_LOCALE, and the lookup, left running, fills the cache for
the next request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from handlers.i18n import SOURCE_LANGUAGE, Translator, locale_for, translator

log = logging.getLogger("altegio.handlers")

# Slack wants an ack within 3 s, and a listener is called (and acks) once its `t` is known;
# users.info answers in well under a second, and after the first time it comes from the cache.
LOCALE_WAIT = 2.0

# Lookups that outlived LOCALE_WAIT, kept referenced until they finish.
_running: set[asyncio.Future[Any]] = set()


async def person_locale(people: Any, client: Any, team: str, user: str) -> str | None:
    """The person's Slack locale (`es-LA`), or None when unknown, failed or slow."""
    if people is None or client is None or not user:
        return None
    lookup = asyncio.ensure_future(people.person(client, team, user))
    try:
        done, _ = await asyncio.wait({lookup}, timeout=LOCALE_WAIT)
    except asyncio.CancelledError:
        lookup.cancel()
        raise
    if not done:
        _running.add(lookup)
        lookup.add_done_callback(_finished)
        log.info("users.info is slow: answering in the default language")
        return None
    if lookup.exception() is not None:  # People answers failures itself; this is a bug
        log.warning("locale lookup failed: %s", type(lookup.exception()).__name__)
        return None
    return getattr(lookup.result(), "locale", None)


def _finished(lookup: asyncio.Future[Any]) -> None:
    _running.discard(lookup)
    if not lookup.cancelled():
        lookup.exception()  # retrieved, so asyncio does not log it as never retrieved


async def reader(context: Any) -> Translator:
    """The translator for the person a request came from, kept on the context as `t`."""
    known = context.get("t")
    if isinstance(known, Translator):
        return known
    config = context.get("config")
    default = getattr(config, "default_locale", SOURCE_LANGUAGE)
    locale = await person_locale(
        context.get("people"),
        getattr(context, "client", None),
        context.get("team") or "",
        getattr(context, "user_id", None) or "",
    )
    found = translator(locale_for(locale, default))
    context["t"] = found
    return found
