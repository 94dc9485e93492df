"""When Slack refuses what the bot sends for its blocks, the person still gets an answer.

The builders keep Block Kit's limits, but Slack may still refuse a message (`invalid_blocks`,
`msg_too_long`, `invalid_arguments` about its blocks): a limit we do not know of, a block
Slack stops accepting. Every reply leaves through two doors, the Web API client and respond()
(a response_url), and both send a refused message once more as its plain `text` (clipped, no
blocks), so a refusal never leaves someone without an answer. Here the Web API door
(`guard_client`); respond()'s is `bot.bolt_adapter.PooledRespond`, built on the same pieces.

Views have no `text`: a refused Home tab is published again as one section saying it could not
be shown in full, and a refused modal becomes a private message (raised as `FormNotShown`, a
`UsageError`, which the one error handler answers where the person acted).

A warning names Slack's error and what was being sent (`sending`: the listener, or the sweep's
alert kind), never the text or blocks themselves.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import blocks
from handlers.errors import UsageError, slack_error
from handlers.i18n import ENGLISH, N_, Translator
from handlers.reader import reader

log = logging.getLogger("altegio.handlers")

# Slack's answers to a payload whose blocks (or length) it will not take.
REFUSED = frozenset({"invalid_blocks", "msg_too_long", "invalid_arguments"})
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
MODAL_METHODS = frozenset({"views.open", "views.update", "views.push"})
# Fields of a message that Slack refuses for their content; the fallback leaves them out.
RICH_FIELDS = ("blocks", "attachments")

HOME_NOT_SHOWN = N_(
    "Your Home tab could not be shown in full. `/altegio whoami` shows which Altegio account "
    "is linked, and `/license watching` in a channel lists the licences it watches."
)
FORM_NOT_SHOWN = N_(
    "Slack would not show the form (%(code)s), so nothing was opened. Try again in a minute; "
    "if it keeps happening, let the people who run this bot know."
)

# What is being sent, for the warning: the listener's name, or the sweep's alert kind.
sending: contextvars.ContextVar[str] = contextvars.ContextVar("sending", default="-")


@contextlib.contextmanager
def sending_as(kind: str) -> Iterator[None]:
    """Name what the replies sent inside this block are (a listener, an alert's kind)."""
    token = sending.set(kind)
    try:
        yield
    finally:
        sending.reset(token)


class FormNotShown(UsageError):
    """Slack refused a modal: the person is told privately instead."""


def refusal(code: str | None, payload: Mapping[str, Any], details: Any = None) -> bool:
    """Whether Slack's error `code` refuses this payload (a message, or a view's call) for its
    blocks or length, so that sending it without them may well be taken.

    `invalid_arguments` is Slack's answer to many a bad argument; it counts only when its
    details (`errors`, `response_metadata.messages`) point at blocks, text or the view, or when
    it gives none.
    """
    if code not in REFUSED:
        return False
    rich = any(payload.get(k) for k in RICH_FIELDS) or "view" in payload
    if not rich and code != "msg_too_long":
        return False  # nothing to leave out
    if code != "invalid_arguments":
        return True
    said = _details(details)
    return not said or any(w in s for s in said for w in ("block", "text", "view", "attachment"))


def plain_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """The same message as plain text: its `text` clipped to a safe length, no blocks.

    A message with no `text` says what its sections said. chat.update keeps a message's old
    blocks unless told otherwise, so its fallback clears them.
    """
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        text = "\n".join(_section_texts(message.get("blocks")))
    plain = {k: v for k, v in message.items() if k not in RICH_FIELDS}
    plain["text"] = blocks.clip(text, blocks.TEXT)
    return plain


def warn(
    where: str, code: str, message: Mapping[str, Any], instead: str = "sent as plain text"
) -> None:
    """The operator's record of a refusal: the error and what was sent, never its content."""
    parts = message.get("blocks")
    count = len(parts) if isinstance(parts, list) else 0
    text = message.get("text")
    log.warning(
        "Slack refused %s from %s (%s; %d blocks, text of %d characters): %s",
        where,
        sending.get(),
        code,
        count,
        len(text) if isinstance(text, str) else 0,
        instead,
    )


def home_not_shown(t: Translator) -> dict[str, Any]:
    """The Home tab when Slack refused the whole one: a single section that always fits."""
    return {"type": "home", "blocks": [blocks.section(t._(HOME_NOT_SHOWN))]}


Send = Callable[..., Awaitable[Any]]


def guard_client(client: AsyncWebClient, context: Any = None) -> AsyncWebClient:
    """Wrap this client's api_call so that a refused message, Home tab or modal still reaches
    the person. `context` (a request's Bolt context): whose language a view's fallback speaks;
    without one, English. Wrapping twice is wrapping once."""
    if getattr(client, "_refusals_guarded", False):
        return client
    send: Send = client.api_call

    async def api_call(api_method: str, **kwargs: Any) -> Any:
        try:
            return await send(api_method, **kwargs)
        except SlackApiError as error:
            part, args = _arguments(kwargs)
            code = slack_error(error)
            if args is None or code is None:
                raise
            details = getattr(error.response, "data", None)
            if api_method in MESSAGE_METHODS:
                if not refusal(code, args, details):
                    raise
                warn(api_method, code, _decoded(args))
                plain = plain_message(_decoded(args))
                if api_method == "chat.update":
                    plain["blocks"] = []
                return await send(api_method, **{**kwargs, part: plain})
            if api_method == "views.publish" and refusal(code, args, details):
                warn(api_method, code, _view_of(args), "published a one-sentence Home tab")
                t = await _language(context)
                home = {**args, "view": home_not_shown(t)}
                home.pop("hash", None)  # the refused view never replaced the one with that hash
                return await send(api_method, **{**kwargs, part: home})
            if api_method in MODAL_METHODS and refusal(code, args, details):
                warn(api_method, code, _view_of(args), "told the person privately")
                t = await _language(context)
                raise FormNotShown(t._(FORM_NOT_SHOWN, code=code)) from None
            raise

    client.api_call = api_call  # type: ignore[method-assign]
    client._refusals_guarded = True  # type: ignore[attr-defined]
    return client


async def _language(context: Any) -> Translator:
    if context is None:
        return ENGLISH
    try:
        return await reader(context)
    except Exception as error:  # the fallback must not fail for want of a language
        log.info("no language for a refused view: %s", type(error).__name__)
        return ENGLISH


def _arguments(kwargs: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Which of api_call's arguments carries the call's fields (slack_sdk uses `json`)."""
    for part in ("json", "data", "params"):
        if isinstance(kwargs.get(part), dict):
            return part, kwargs[part]
    return "json", None


def _decoded(args: Mapping[str, Any]) -> dict[str, Any]:
    """The fields, blocks decoded when a caller passed them as a JSON string."""
    decoded = dict(args)
    for key in RICH_FIELDS:
        if isinstance(decoded.get(key), str):
            with contextlib.suppress(ValueError):
                decoded[key] = json.loads(decoded[key])
    return decoded


def _view_of(args: Mapping[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    if isinstance(view, str):
        with contextlib.suppress(ValueError):
            view = json.loads(view)
    return view if isinstance(view, dict) else {}


def _details(data: Any) -> list[str]:
    if not isinstance(data, Mapping):
        return []
    said = data.get("errors")
    said = list(said) if isinstance(said, list) else []
    metadata = data.get("response_metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("messages"), list):
        said += metadata["messages"]
    return [str(s).lower() for s in said]


def _section_texts(parts: Any) -> list[str]:
    if isinstance(parts, str):
        with contextlib.suppress(ValueError):
            parts = json.loads(parts)
    if not isinstance(parts, list):
        return []
    texts = []
    for block in parts:
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            texts.append(text["text"])
    return texts
