"""/phone: does Altegio accept a phone number, and in what form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from api import InvalidInput
from handlers.deps import deps
from handlers.errors import UsageError
from handlers.phone import messages
from handlers.phone.parsing import NotAPhoneNumber, parse_phone


async def phone_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    text = (command.get("text") or "").strip()
    if not text or text.lower() in {"help", "-h", "--help", "?"}:
        await respond(text=messages.USAGE, response_type="ephemeral")
        return
    try:
        phone = parse_phone(text)
    except NotAPhoneNumber:
        raise UsageError(messages.not_a_number(text)) from None
    try:
        accepted = (await deps(context).altegio.validate_phone(phone.e164)).is_valid
    except InvalidInput:
        # Altegio may refuse an invalid number with 400/422 instead of is_valid: false.
        accepted = False
    await respond(
        text=messages.fallback(phone, accepted),
        blocks=messages.phone_card(phone, accepted),
        response_type="ephemeral",
    )
