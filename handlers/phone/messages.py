"""Block Kit for /phone. Pure functions."""

from __future__ import annotations

from handlers import blocks
from handlers.blocks import Block, Message
from handlers.input import quote
from handlers.phone.parsing import ParsedPhone

USAGE = (
    "*Usage*\n`/phone <number>` — check whether Altegio accepts a phone number, e.g. "
    "`/phone +44 20 7946 0958`. Include the country code."
)


def not_a_number(text: str) -> str:
    shown = quote(text)
    return f"`{shown}` doesn't look like a phone number.\n\n{USAGE}"


def phone_message(phone: ParsedPhone, accepted: bool) -> Message:
    return Message(fallback(phone, accepted), phone_card(phone, accepted))


def phone_card(phone: ParsedPhone, accepted: bool) -> list[Block]:
    verdict = (
        ":white_check_mark: *Altegio accepts this number.*"
        if accepted
        else ":x: *Altegio does not accept this number.*"
    )
    if phone.country:
        where = f"{phone.country} ({phone.region})"
    else:  # "001": international services such as +800 freephone numbers
        where = "non-geographic" if phone.region == "001" else (phone.region or "unknown")
    return [
        blocks.section(verdict),
        blocks.fields(
            [
                ("Normalised", f"`{phone.e164}`"),
                ("Country", where),
                ("Line type", phone.line_type),
                ("Number plan", "valid" if phone.plausible else "not a valid number there"),
            ]
        ),
    ]


def fallback(phone: ParsedPhone, accepted: bool) -> str:
    return f"{phone.e164}: Altegio {'accepts' if accepted else 'does not accept'} this number."
