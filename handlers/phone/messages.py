"""Block Kit for /phone, in the reader's language. Pure functions."""

from __future__ import annotations

from handlers import blocks
from handlers.blocks import Block, Message
from handlers.i18n import ENGLISH, Translator
from handlers.input import quote
from handlers.phone.parsing import ParsedPhone


def usage(t: Translator = ENGLISH) -> str:
    return t._(
        "*Usage*\n`/phone <number>` — check whether Altegio accepts a phone number, e.g. "
        "`/phone +44 20 7946 0958`. Include the country code."
    )


USAGE = usage()


def not_a_number(text: str, t: Translator = ENGLISH) -> str:
    return t._(
        "`%(typed)s` doesn't look like a phone number.\n\n%(usage)s",
        typed=quote(text),
        usage=usage(t),
    )


def phone_message(phone: ParsedPhone, accepted: bool, t: Translator = ENGLISH) -> Message:
    return Message(fallback(phone, accepted, t), phone_card(phone, accepted, t))


def country(phone: ParsedPhone, t: Translator = ENGLISH) -> str:
    """Where the number is from, in the reader's language: "Reino Unido (GB)"."""
    name = t.country(phone.region) if phone.region and phone.region != "001" else None
    name = name or phone.country
    if name:
        return t._("%(country)s (%(code)s)", country=name, code=phone.region)
    if phone.region == "001":  # international services such as +800 freephone numbers
        return t._("non-geographic")
    return phone.region or t._("unknown")


def phone_card(phone: ParsedPhone, accepted: bool, t: Translator = ENGLISH) -> list[Block]:
    verdict = (
        t._(":white_check_mark: *Altegio accepts this number.*")
        if accepted
        else t._(":x: *Altegio does not accept this number.*")
    )
    return [
        blocks.section(verdict),
        blocks.fields(
            [
                (t._("Normalised"), f"`{phone.e164}`"),
                (t._("Country"), country(phone, t)),
                (t._("Line type"), t._(phone.line_type)),
                (
                    t._("Number plan"),
                    t._("valid") if phone.plausible else t._("not a valid number there"),
                ),
            ]
        ),
    ]


def fallback(phone: ParsedPhone, accepted: bool, t: Translator = ENGLISH) -> str:
    if accepted:
        return t._("%(number)s: Altegio accepts this number.", number=phone.e164)
    return t._("%(number)s: Altegio does not accept this number.", number=phone.e164)
