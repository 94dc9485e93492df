"""Listeners: a photo shared in a channel, and the Try again button on a failed upload.

Slack may deliver an event more than once (a retry carries the same event_id and an
X-Slack-Retry-Num header), possibly to another process. The delivery is claimed in the store
before the bot says or does anything, and each file is claimed again before it is uploaded.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from api import AltegioClient
from handlers.audit import PHOTO, audit
from handlers.config import HandlerConfig
from handlers.credentials import WRITE, credential_for
from handlers.errors import NotLinked, UsageError, slack_error
from handlers.i18n import Translator
from handlers.images import messages
from handlers.images.caption import CaptionError, parse_caption
from handlers.images.download import Downloader
from handlers.images.messages import RetryRequest
from handlers.images.upload import (
    Result,
    Share,
    Uploader,
    file_name,
    react,
    reply,
    upload_file,
    whisper,
)
from handlers.store import Store

log = logging.getLogger("altegio.images")

MAX_FILES_PER_SHARE = 10  # Slack's own limit for one message
CHANNEL_TYPES = {"channel", "group"}  # public and private channels, not DMs


class ImageShares:
    def __init__(self, downloader: Downloader | None = None) -> None:
        self.downloader = downloader or Downloader()

    async def on_file_share(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        request: AsyncBoltRequest,
        client: AsyncWebClient,
        altegio: AltegioClient,
        store: Store,
        config: HandlerConfig,
        team: str,
        user: str,
        t: Translator,
    ) -> None:
        files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
        user_id = event.get("user")
        if not files or not user_id or event.get("bot_id"):
            return
        if event.get("channel_type", "channel") not in CHANNEL_TYPES:
            return
        share = Share(
            channel_id=str(event.get("channel") or ""),
            ts=str(event.get("ts") or ""),
            thread_ts=str(event.get("thread_ts") or event.get("ts") or ""),
            user_id=str(user_id),
        )
        try:
            target = parse_caption(str(event.get("text") or ""))
        except CaptionError as problem:
            if await _first_delivery(store, team, body, request, share):
                await _refused(store, team, share, files, "caption not usable")
                await reply(client, share, messages.usage_reply(problem.text(t), t))
            return
        if target is None:
            log.debug("photo share %s: the caption is not for the bot", share.ts)
            return
        if not await _first_delivery(store, team, body, request, share):
            return
        try:
            # An upload changes Altegio: only the sharer's own session, never the service account.
            await credential_for(store, config, team, user, purpose=WRITE)
        except NotLinked:
            await _refused(store, team, share, files, "sharer not linked")
            text, prompt = messages.login_prompt([file_name(f) for f in files], t)
            await whisper(client, share, text, prompt)
            return
        up = Uploader(client, altegio, store, config, team, self.downloader, t)
        results = []
        for file in files[:MAX_FILES_PER_SHARE]:
            result = await upload_file(up, share, target, file)
            if result is Result.SKIPPED:
                await reply(client, share, messages.already_handled(file_name(file), t))
            results.append(result)
        await react(client, share, results)

    async def on_retry(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        altegio: AltegioClient,
        store: Store,
        config: HandlerConfig,
        team: str,
        user: str,
        t: Translator,
    ) -> None:
        await ack()
        wanted = RetryRequest.decode(action.get("value"))
        if wanted is None:
            raise UsageError(messages.button_expired(t))
        # Not linked: the error handler asks them to link; the service account never uploads.
        await credential_for(store, config, team, user, purpose=WRITE)
        try:
            info = await client.files_info(file=wanted.file_id)
        except SlackApiError as exc:
            if slack_error(exc) == "file_not_found":
                raise UsageError(messages.file_not_found(t)) from None
            raise
        share = Share(
            channel_id=wanted.channel_id,
            ts=wanted.ts,
            thread_ts=wanted.thread_ts,
            user_id=user,
        )
        up = Uploader(client, altegio, store, config, team, self.downloader, t)
        result = await upload_file(up, share, wanted.target, info["file"])
        if result is Result.SKIPPED:
            text, notice = messages.already_handled(file_name(info["file"]), t)
            await respond(
                text=text, blocks=notice, response_type="ephemeral", replace_original=False
            )
            return
        await react(client, share, [result])
        # The old button would start yet another attempt; leave the message, drop the button.
        original = _first_section_text(body.get("message") or {}) or messages.upload_failed(t)
        text, note = messages.retried(share.user_id, original, t)
        try:
            await respond(text=text, blocks=note, replace_original=True)
        except Exception:  # cosmetic: the new outcome is in the thread already
            log.warning("could not update the message with the Try again button")


async def _refused(
    store: Store, team: str, share: Share, files: list[dict[str, Any]], reason: str
) -> None:
    """Photos turned away before any upload: one audit row each."""
    for file in files[:MAX_FILES_PER_SHARE]:
        await audit(
            store,
            team,
            share.user_id,
            PHOTO,
            channel=share.channel_id,
            file_id=str(file.get("id")),
            ok=False,
            reason=reason,
        )


async def _first_delivery(
    store: Store, team: str, body: dict[str, Any], request: AsyncBoltRequest, share: Share
) -> bool:
    key = str(body.get("event_id") or f"{share.channel_id}:{share.ts}")
    if await store.claim_delivery(team, key):
        return True
    retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
    log.info("photo share %s was handled already (retry %s): skipped", key, retry)
    return False


async def ignore() -> None:
    """Events the feature hears but has nothing to do with (acknowledged by Bolt)."""


def _first_section_text(message: dict[str, Any]) -> str:
    for block in message.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "section":
            text = (block.get("text") or {}).get("text")
            if text:
                return str(text)
    return str(message.get("text") or "")
