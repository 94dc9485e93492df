"""Block Kit for /altegio, the login modal and App Home. Pure functions: data in, blocks out,
in the reader's language (`t`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from api import InvalidCredentials
from handlers import blocks
from handlers.blocks import LOGIN_ACTION, Block
from handlers.errors import describe
from handlers.i18n import ENGLISH, Translator
from handlers.input import quote
from handlers.store import LinkedAccount, Watch

LOGIN_CALLBACK = "altegio_login"
LOGOUT_ACTION = "altegio_logout"
LOGIN_BLOCK = "login"
PASSWORD_BLOCK = "password"  # noqa: S105 (a block id, not a secret)

# Slack limits: 100 blocks in a view, 3000 characters in a section's text.
MAX_HOME_CHANNELS = 40
MAX_LOCATIONS_SHOWN = 25


def usage(t: Translator = ENGLISH) -> str:
    return t._(
        "*Usage*\n"
        "`/altegio login` — link your Altegio account (opens a form)\n"
        "`/altegio whoami` — show which Altegio account you are linked as\n"
        "`/altegio logout` — unlink it; the bot forgets your session at once\n"
        "`/altegio help` — this help"
    )


USAGE = usage()


def unknown_subcommand(word: str, t: Translator = ENGLISH) -> str:
    return t._(
        "`/altegio` has no `%(word)s` command.\n\n%(usage)s", word=quote(word), usage=usage(t)
    )


def slack_date(moment: datetime, t: Translator = ENGLISH) -> str:
    """A date Slack shows in the reader's own time zone; the fallback is UTC."""
    when = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    utc = when.astimezone(UTC)
    # Slack fills in {date_short_pretty} and {time}; the words around them are ours.
    shown = t._("{date_short_pretty} at {time}")
    fallback = t._("%(date)s %(time)s UTC", date=t.format_date(utc), time=utc.strftime("%H:%M"))
    return f"<!date^{int(when.timestamp())}^{shown}|{fallback}>"


def display_name(account: LinkedAccount) -> str:
    return blocks.escape(account.name.strip() or account.login, blocks.NAME_SHOWN)


def account_line(account: LinkedAccount, t: Translator = ENGLISH) -> str:
    return t._(
        "*%(name)s* (%(login)s, Altegio user %(id)s)",
        name=display_name(account),
        login=blocks.escape(account.login, blocks.NAME_SHOWN),
        id=account.altegio_user_id,
    )


def _logout_button(t: Translator = ENGLISH) -> Block:
    element = blocks.button(t._("Log out"), LOGOUT_ACTION, style="danger")
    element["confirm"] = {
        "title": {"type": "plain_text", "text": t._("Unlink Altegio?")},
        "text": {
            "type": "plain_text",
            "text": t._(
                "The bot will forget your Altegio session. You can link it again any time."
            ),
        },
        "confirm": {"type": "plain_text", "text": t._("Log out")},
        "deny": {"type": "plain_text", "text": t._("Cancel")},
        "style": "danger",
    }
    return element


def _not_linked_text(service_account: bool, t: Translator = ENGLISH) -> str:
    if service_account:
        # Said to everyone, guests included: who may use the shared account is part of it.
        return t._(
            "You have not linked an Altegio account. Until you do, members of this workspace "
            "get licence lookups from its shared Altegio service account (guests and people "
            "from other organisations don't), and uploading a photo needs your own account."
        )
    return t._("You have not linked an Altegio account.")


# ------------------------------------------------------------------------- replies


def whoami(
    account: LinkedAccount | None, *, service_account: bool = False, t: Translator = ENGLISH
) -> list[Block]:
    if account is None:
        return blocks.login_prompt(_not_linked_text(service_account, t), t)
    return [
        blocks.section(
            t._(
                "You are linked to Altegio as %(account)s, since %(date)s.",
                account=account_line(account, t),
                date=slack_date(account.linked_at, t),
            )
        ),
        blocks.actions(_logout_button(t), block_id="account"),
    ]


def whoami_text(account: LinkedAccount | None, t: Translator = ENGLISH) -> str:
    if account is None:
        return t._("You have not linked an Altegio account.")
    return t._(
        "Linked to Altegio as %(name)s (%(login)s).",
        name=display_name(account),
        login=blocks.escape(account.login, blocks.NAME_SHOWN),
    )


def linked(account: LinkedAccount, t: Translator = ENGLISH) -> str:
    return t._(
        ":white_check_mark: You are linked to Altegio as %(account)s. "
        "Commands that act in Altegio now run on your account; `/altegio logout` unlinks it.",
        account=account_line(account, t),
    )


def logged_out(account: LinkedAccount | None, t: Translator = ENGLISH) -> str:
    if account is None:
        return t._(
            "Done: I have forgotten your Altegio session. "
            "Run `/altegio login` to link an account again."
        )
    return t._(
        "Done: I have forgotten your Altegio session (%(name)s). "
        "Run `/altegio login` to link an account again.",
        name=display_name(account),
    )


def not_linked_logout(t: Translator = ENGLISH) -> str:
    return t._("You are not linked to an Altegio account, so there is nothing to forget.")


NOT_LINKED_LOGOUT = not_linked_logout()


def login_form_expired(t: Translator = ENGLISH) -> str:
    return t._("Slack gave me too little time to open the login form. Run `/altegio login` again.")


# ------------------------------------------------------------------------- login modal


# Slack allows 24 characters in a modal's title, submit and close buttons, in every language.
MODAL_TITLE_MAX = 24


def login_modal(
    private_metadata: str, current: LinkedAccount | None = None, t: Translator = ENGLISH
) -> dict[str, Any]:
    """The form asking for the Altegio login and password."""
    intro = t._(
        "Sign in with the e-mail or phone number and password you use for Altegio. "
        "The bot then acts in Altegio as you, and only for you."
    )
    view_blocks: list[Block] = [blocks.section(intro)]
    if current is not None:
        view_blocks.append(
            blocks.context(
                t._(
                    "You are linked as %(account)s now; signing in again replaces that link.",
                    account=account_line(current, t),
                )
            )
        )
    view_blocks += [
        {
            "type": "input",
            "block_id": LOGIN_BLOCK,
            "label": {"type": "plain_text", "text": t._("Altegio login (e-mail or phone)")},
            "element": {
                "type": "plain_text_input",
                "action_id": LOGIN_BLOCK,
                "max_length": 254,
                "placeholder": {"type": "plain_text", "text": "manager@example.com"},
            },
        },
        {
            "type": "input",
            "block_id": PASSWORD_BLOCK,
            "label": {"type": "plain_text", "text": t._("Altegio password")},
            "element": {
                "type": "plain_text_input",
                "action_id": PASSWORD_BLOCK,
                "max_length": 256,
            },
            "hint": {
                "type": "plain_text",
                "text": t._(
                    "Slack has no hidden password field, so the password shows as you type. "
                    "It is sent to Altegio once to sign you in and is never stored; "
                    "the bot keeps only the session Altegio returns, encrypted."
                ),
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": LOGIN_CALLBACK,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": _short(t._("Altegio login"))},
        "submit": {"type": "plain_text", "text": _short(t._("Log in"))},
        "close": {"type": "plain_text", "text": _short(t._("Cancel"))},
        "blocks": view_blocks,
    }


def _short(text: str) -> str:
    """A modal's title or button: a translation too long for Slack would lose the whole form."""
    return blocks.clip(text, MODAL_TITLE_MAX)


def missing_fields(login: str, password: str, t: Translator = ENGLISH) -> dict[str, str]:
    """Field errors for an incomplete form (Slack usually stops these itself)."""
    errors: dict[str, str] = {}
    if not login.strip():
        errors[LOGIN_BLOCK] = t._("Enter the e-mail or phone number you sign in to Altegio with.")
    if not password.strip():
        errors[PASSWORD_BLOCK] = t._("Enter your Altegio password.")
    return errors


def login_refusal(error: BaseException, t: Translator = ENGLISH) -> dict[str, str]:
    """The field error that keeps the modal open when signing in did not work."""
    match error:
        case InvalidCredentials():
            text = t._("Altegio did not accept that login and password. Check both and try again.")
        case TimeoutError():  # also asyncio.wait_for giving up
            text = t._(
                "Altegio is slow to answer right now, so I stopped waiting. Try again in a minute."
            )
        case _:
            text = describe(error, t)
    return {PASSWORD_BLOCK: text}


# ------------------------------------------------------------------------- App Home


def home_view(
    account: LinkedAccount | None,
    watches: Sequence[Watch],
    *,
    now: datetime,
    t: Translator,
    service_account: bool = False,
    problem: str | None = None,
    channels_unknown: bool = False,
) -> dict[str, Any]:
    """The App Home tab, in the viewer's language: their link to Altegio, then the licences
    their channels watch.

    `watches` are those of the conversations the viewer is in; `channels_unknown`: Slack would
    not say which those are, so none are listed, and the tab says why."""
    out: list[Block] = [blocks.header(t._("Your Altegio account"))]
    if problem is not None:
        out.append(blocks.section(f":warning: {problem}"))
    elif account is None:
        out.append(blocks.section(_not_linked_text(service_account, t)))
        out.append(
            blocks.actions(
                blocks.button(t._("Log in"), LOGIN_ACTION, style="primary"), block_id="account"
            )
        )
    else:
        out.append(
            blocks.section(
                t._(
                    "Linked as %(account)s, since %(date)s.",
                    account=account_line(account, t),
                    date=slack_date(account.linked_at, t),
                )
            )
        )
        out.append(
            blocks.actions(
                blocks.button(t._("Switch account"), LOGIN_ACTION),
                _logout_button(t),
                block_id="account",
            )
        )
    out.append(blocks.divider())
    out.append(blocks.header(t._("Watched licences")))
    if problem is None:
        if channels_unknown:
            out.append(
                blocks.section(
                    t._(
                        "Slack did not tell me which channels you are in, so no watched "
                        "licences are shown. In a channel, `/license watching` lists its watches."
                    )
                )
            )
        else:
            out += watch_blocks(watches, now=now, t=t)
    out.append(blocks.divider())
    out.append(
        blocks.context(
            t._(
                "`/license <location id>` shows a licence · `/license watch <location id>` in a "
                "channel warns it before the licence lapses · `/altegio help` lists account "
                "commands"
            )
        )
    )
    return {"type": "home", "blocks": blocks.cap(out, blocks.VIEW_BLOCKS, t)}


def watch_blocks(watches: Sequence[Watch], *, now: datetime, t: Translator) -> list[Block]:
    if not watches:
        return [
            blocks.section(
                t._(
                    "No channel you are in watches a licence yet. In a channel, "
                    "`/license watch <location id>` warns it before that licence lapses."
                )
            )
        ]
    ordered = sorted(watches, key=lambda w: (w.channel_id, w.location_id))
    channels = [(c, list(ws)) for c, ws in groupby(ordered, key=lambda w: w.channel_id)]
    out = [
        blocks.section(f"<#{channel}>\n{_locations(group, now, t)}")
        for channel, group in channels[:MAX_HOME_CHANNELS]
    ]
    if len(channels) > MAX_HOME_CHANNELS:
        more = len(channels) - MAX_HOME_CHANNELS
        out.append(
            blocks.context(
                t.ngettext("…and %(n)s more channel.", "…and %(n)s more channels.", more)
            )
        )
    return out


def _locations(group: list[Watch], now: datetime, t: Translator) -> str:
    parts = []
    for watch in group[:MAX_LOCATIONS_SHOWN]:
        until = watch.snoozed_until
        if until is not None and (until if until.tzinfo else until.replace(tzinfo=UTC)) > now:
            parts.append(
                t._(
                    "`%(id)s` (snoozed until %(until)s)",
                    id=watch.location_id,
                    until=slack_date(until, t),
                )
            )
        else:
            parts.append(f"`{watch.location_id}`")
    if len(group) > MAX_LOCATIONS_SHOWN:
        return t.ngettext(
            "Locations: %(ids)s · and %(n)s more",
            "Locations: %(ids)s · and %(n)s more",
            len(group) - MAX_LOCATIONS_SHOWN,
            ids=" · ".join(parts),
        )
    return t._("Locations: %(ids)s", ids=" · ".join(parts))
