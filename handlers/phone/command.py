"""/phone: does Altegio accept a phone number, and in what form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from api import AltegioClient, InvalidInput
from handlers import input
from handlers.errors import UsageError
from handlers.i18n import Translator
from handlers.phone import messages
from handlers.phone.parsing import NotAPhoneNumber, parse_phone


async def phone_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    altegio: AltegioClient,
    t: Translator,
) -> None:
    await ack()
    text = input.from_slack(command.get("text") or "").strip()
    if input.is_help(text):
        await respond(text=messages.usage(t), response_type="ephemeral")
        return
    try:
        phone = parse_phone(text)
    except NotAPhoneNumber:
        raise UsageError(messages.not_a_number(text, t)) from None
    try:
        accepted = (await altegio.validate_phone(phone.e164)).is_valid
    except InvalidInput:
        # Altegio may refuse an invalid number with 400/422 instead of is_valid: false.
        accepted = False
    reply = messages.phone_message(phone, accepted, t)
    await respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
