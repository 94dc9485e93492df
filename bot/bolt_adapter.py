"""Where the bot bends Bolt: respond() over the process's shared aiohttp session.

Bolt's own respond() opens a new aiohttp session, so a new TCP (and TLS) connection, for every
reply: under load that costs the event loop more than the rest of a command's work and slows
the acks of the commands queued behind it. Bolt has no setting for it, so `Inject` puts a
`PooledRespond` in the context under "respond", where Bolt's listeners find it. It builds the
message body itself rather than through Bolt's private helper.

It is also where a reply Slack refuses for its blocks (`invalid_blocks`, `msg_too_long`) is sent
again as plain text, once, for every listener (handlers/refusals.py).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack_client import LISTENER_RETRIES, retry_handlers
from handlers import refusals

log = logging.getLogger("altegio.bot")


class PooledRespond(AsyncRespond):
    """Bolt's respond(), over the process's shared aiohttp session."""

    def __init__(self, response_url: str, session: aiohttp.ClientSession | None) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    async def __call__(  # type: ignore[override]
        self, text: str | dict[str, Any] = "", **fields: Any
    ) -> WebhookResponse:
        # The webhook client retries only refused connections by default; a reply is often the
        # command's only answer, so a Slack 429 or 500/503 must not lose it either.
        client = AsyncWebhookClient(
            url=self.response_url or "",
            session=self._session,
            retry_handlers=retry_handlers(LISTENER_RETRIES),
        )
        body = reply_body(text, fields)
        response = await client.send_dict(self.prepare(body))
        code = refused_code(response)
        if response.status_code != 200 and refusals.refusal(code, body):
            # Slack showed nothing: the same reply as plain text is still an answer.
            assert code is not None
            refusals.warn("a reply to response_url", code, body)
            response = await client.send_dict(self.prepare(refusals.plain_message(body)))
        if response.status_code != 200:
            # Not the URL: it lets anyone post in that channel for half an hour.
            log.warning(
                "Slack refused a reply to response_url: HTTP %s %s",
                response.status_code,
                (response.body or "")[:100],
            )
        return response

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as posted; the sandbox marks it."""
        return body


def refused_code(response: WebhookResponse) -> str | None:
    """Slack's error code in a response_url's refusal: plain text (`invalid_blocks`) or JSON."""
    if response.status_code == 200 or not response.body:
        return None
    said = response.body.strip()
    if said.startswith("{"):
        try:
            data = json.loads(said)
        except ValueError:
            return None
        code = data.get("error") if isinstance(data, dict) else None
        return code if isinstance(code, str) else None
    return said if re.fullmatch(r"[a-z_]{1,60}", said) else None


def reply_body(text: str | dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """What respond(text, **fields) posts: unset fields and empty block lists left out."""
    whole = dict(text) if isinstance(text, dict) else {"text": text, **fields}
    body: dict[str, Any] = {"text": whole.pop("text", "")}
    for key, value in whole.items():
        if value is None or (key in ("blocks", "attachments") and len(value) == 0):
            continue
        if key in ("blocks", "attachments"):
            value = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
        body[key] = value
    return body
