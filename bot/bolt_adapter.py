"""Where the bot bends Bolt: respond() over the process's shared aiohttp session.

Bolt's own respond() opens a new aiohttp session, so a new TCP (and TLS) connection, for every
reply: under load that costs the event loop more than the rest of a command's work and slows
the acks of the commands queued behind it. Bolt has no setting for it, so `Inject` puts a
`PooledRespond` in the context under "respond", where Bolt's listeners find it. It builds the
message body itself rather than through Bolt's private helper.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack_client import LISTENER_RETRIES, retry_handlers

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
        response = await client.send_dict(reply_body(text, fields))
        if response.status_code != 200:
            # Not the URL: it lets anyone post in that channel for half an hour.
            log.warning(
                "Slack refused a reply to response_url: HTTP %s %s",
                response.status_code,
                (response.body or "")[:100],
            )
        return response


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
