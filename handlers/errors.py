"""One place that turns every error into one plain sentence, private to the user who acted.

Listeners raise; `handle_error` (the app's only error handler, also called by
`handlers.registry.guarded`) answers. A listener
that wants the sentence inline (one bad location among several) calls `describe`.
"""

from __future__ import annotations

import logging

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from api import (
    AccessDenied,
    AltegioError,
    AuthenticationError,
    Busy,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    TooManyAttempts,
    Unavailable,
)
from api.errors import PARTNER, USER, PartnerTokenRefused
from handlers import blocks
from handlers.i18n import ENGLISH, N_, Translator
from handlers.reader import reader
from handlers.store import StoreUnavailable

log = logging.getLogger("altegio.handlers")

REASON = 500  # characters of Altegio's own words in a reply, escaped; its message may be any length
RETRY_COMMAND_ACTION = "command_retry"  # the Try again button on a busy command's answer
MAX_RETRY_VALUE = 2000  # characters: Slack's limit for a button's value


class UsageError(Exception):
    """The user typed something the bot cannot act on; the message says how to fix it."""


class NotLinked(Exception):
    """The action needs an Altegio user token and the user has none linked."""

    message = N_(
        "This needs your Altegio account. Link it once with `/altegio login`, then try again."
    )


class Outsider(Exception):
    """A guest, or someone from another organisation in a shared channel, with no linked
    session: the workspace's shared Altegio account does not act for them."""

    message = N_(
        "Guests and people from other organisations can't use this workspace's shared Altegio "
        "account. To do this, link your own with `/altegio login`."
    )


class Unidentified(Exception):
    """Slack could not say who the user is, so the shared account does not act for them."""

    message = N_(
        "Slack could not tell me who you are just now, so I won't use this workspace's shared "
        "Altegio account for you. Try again in a minute, or link your own with `/altegio login`."
    )


class SessionEnded(Exception):
    """Altegio refused the user's stored token: the session has been forgotten."""

    message = N_(
        "Altegio no longer accepts your linked session (perhaps your password changed), "
        "so I have unlinked it. Run `/altegio login` to link your account again."
    )


def describe(error: BaseException, t: Translator = ENGLISH) -> str:
    """The sentence a user sees for an error, in the reader's language."""
    match error:
        case UsageError():
            return str(error)
        case NotLinked() | SessionEnded() | Outsider() | Unidentified():
            return t._(error.message)
        case AuthenticationError(token=token) if token == PARTNER:
            return t._(
                "Altegio refused this bot's partner token, so I can't reach Altegio at the moment. "
                "The people who run this bot need to update it."
            )
        case AuthenticationError():
            return t._(
                "Altegio wants a linked Altegio account for this. "
                "Run `/altegio login` and try again."
            )
        case InvalidCredentials():
            return t._("Altegio did not accept that login and password.")
        case AccessDenied():
            return t._("Altegio refused access: %(reason)s", reason=_reason(error, t))
        case NotFound():
            return t._("Altegio could not find that.")
        case InvalidInput():
            return t._("Altegio did not accept that: %(reason)s", reason=_reason(error, t))
        case TooManyAttempts(retry_after=seconds):
            return t._(
                "That is too many login attempts in a short time. Try again in about %(wait)s.",
                wait=_about(seconds, t),
            )
        case Busy(retry_after=seconds):
            return t._("Altegio is busy, try again in about %(wait)s.", wait=_about(seconds, t))
        case RateLimited():
            return t._("Altegio is busy right now (too many requests). Try again in a minute.")
        case Unavailable():
            return t._("Altegio is not answering right now. Try again in a few minutes.")
        case StoreUnavailable():
            return t._("I can't reach my database right now. Try again in a moment.")
        case SlackApiError():
            code = slack_error(error)
            if code is None or code in {"ratelimited", "internal_error", "fatal_error"}:
                return t._(
                    "Slack is having trouble right now, so I could not finish that. "
                    "Try again in a minute."
                )
            return t._(
                "Slack did not accept that (%(code)s). Try again in a minute.",
                code=blocks.escape(code[:60]),
            )
        case _:
            return t._("Something went wrong on my side. It has been logged; please try again.")


def slack_error(error: SlackApiError) -> str | None:
    """Slack's error code ("not_in_channel"), or None when Slack's answer was not JSON.

    A 5xx with a plain-text or broken body leaves `error.response` a string or an aiohttp
    response rather than a dict-like answer, so `error.response.get(...)` itself would raise.
    """
    data = getattr(error.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code else None


def _about(seconds: int, t: Translator) -> str:
    if seconds < 120:
        return t.ngettext("%(n)s second", "%(n)s seconds", seconds)
    return t.ngettext("%(n)s minute", "%(n)s minutes", round(seconds / 60))


def _reason(error: AltegioError, t: Translator) -> str:
    # Altegio's own words, in whatever language Altegio wrote them.
    message = (error.message or "").strip().rstrip(".")
    return blocks.escape(message, REASON) + "." if message else t._("no reason given.")


def needs_login_button(error: BaseException) -> bool:
    return isinstance(error, NotLinked | SessionEnded | Outsider | Unidentified) or (
        isinstance(error, AuthenticationError) and error.token == USER
    )


def offers_retry(error: BaseException) -> bool:
    """Altegio is busy (its budget, or its own 429s): trying again shortly may well work."""
    return isinstance(error, Busy | RateLimited) and not isinstance(error, TooManyAttempts)


def reply_blocks(
    error: BaseException, t: Translator = ENGLISH, retry: str | None = None
) -> list[blocks.Block]:
    """The error's sentence, with a login button or, given `retry` (a command and its text)
    and a busy Altegio, a Try again button that runs the command again."""
    text = describe(error, t)
    if needs_login_button(error):
        return blocks.login_prompt(text, t)
    if retry and offers_retry(error):
        return [blocks.section(text), try_again(retry, t)]
    return [blocks.section(text)]


def try_again(retry: str, t: Translator = ENGLISH) -> blocks.Block:
    """The Try again button that runs a command (`retry`: its name and text) again."""
    again = blocks.button(t._("Try again"), RETRY_COMMAND_ACTION, retry)
    return blocks.actions(again, block_id=RETRY_COMMAND_ACTION)


async def handle_error(error: Exception, context: AsyncBoltContext) -> None:
    await answer_error(error, context)


async def answer_error(
    error: Exception, context: AsyncBoltContext, *, retry: str | None = None, replace: bool = False
) -> None:
    """Tell the user who acted; `retry` offers Try again (see `reply_blocks`), `replace`
    answers in place of the message whose button was pressed."""
    _log(error)
    t = await reader(context)
    text = blocks.clip(describe(error, t), blocks.TEXT)  # the notification's text
    try:
        if context.response_url:
            await context.respond(
                text=text,
                blocks=reply_blocks(error, t, retry),
                response_type="ephemeral",
                replace_original=replace,
            )
        elif context.channel_id and context.user_id and context.client is not None:
            await context.client.chat_postEphemeral(
                channel=context.channel_id,
                user=context.user_id,
                text=text,
                blocks=reply_blocks(error, t),
            )
        elif context.user_id and context.client is not None:
            # No channel to whisper in (a modal, App Home): a direct message reaches the user.
            await context.client.chat_postMessage(
                channel=context.user_id, text=text, blocks=reply_blocks(error, t)
            )
    except Exception:  # the reply itself failed: nothing more to tell the user
        log.exception("could not tell the user about an error")


def _log(error: Exception) -> None:
    if isinstance(error, UsageError | NotLinked | Outsider | Unidentified | Busy):
        log.info("refused: %s", type(error).__name__)
    elif isinstance(error, PartnerTokenRefused):
        # The Altegio client has told the operator, once for this verdict of its check.
        log.warning("refused: Altegio refuses the partner token")
    elif isinstance(error, AuthenticationError) and error.token == PARTNER:
        log.error("Altegio refused the partner token (ALTEGIO_PARTNER_TOKEN): %s", error.message)
    elif isinstance(error, AltegioError | StoreUnavailable | SessionEnded | SlackApiError):
        log.warning("%s: %s", type(error).__name__, error)
    else:
        log.error("unhandled error", exc_info=error)
