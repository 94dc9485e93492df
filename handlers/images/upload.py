"""One shared file to Altegio: check, claim, download, upload, record, answer in the thread.

Shared by the photo-share event and the Try again button. The file is claimed in the store
before anything is downloaded, so that a duplicate delivery, a second process or a double
click never uploads it twice; a failure releases the claim (state "failed") so that the user
can try again.

The claim is fenced: it carries an owner token, and only that owner can record its outcome.
Everything after the claim (waiting for a photo slot, the download, waiting for Altegio's
budget, the upload and its retries) runs under one deadline, PHOTO_DEADLINE_SECONDS, shorter
than the claim's lease, so an upload is over, one way or the other, before anyone else may take
the file over.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from api import AltegioClient, AltegioError, ImageUpload, NotFound
from handlers import blocks
from handlers.audit import PHOTO, audit
from handlers.blocks import Message
from handlers.config import HandlerConfig
from handlers.credentials import WRITE, acting_as
from handlers.errors import (
    REASON,
    NotLinked,
    SessionEnded,
    describe,
    reply_blocks,
    slack_error,
)
from handlers.i18n import ENGLISH, Translator
from handlers.images import messages
from handlers.images.caption import Target
from handlers.images.download import (
    NAMES,
    Downloader,
    DownloadError,
    NotAnImage,
    metadata_type,
    too_large,
)
from handlers.images.messages import RetryRequest
from handlers.store import LinkedAccount, Store

log = logging.getLogger("altegio.images")

PHOTO_LEASE_SECONDS = 300.0  # how long a claim keeps other deliveries off the file
PHOTO_DEADLINE_SECONDS = 280.0  # the whole pipeline after the claim; leaves time to record it


class Result(enum.Enum):
    UPLOADED = "uploaded"
    FAILED = "failed"
    SKIPPED = "skipped"  # uploaded already, or being uploaded by another delivery


@dataclass(frozen=True)
class Share:
    channel_id: str
    ts: str  # the message that shared the file
    thread_ts: str  # where replies go
    user_id: str  # who acts: the sharer, or whoever pressed Try again


def file_name(file: Mapping[str, Any]) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "photo")


@dataclass(frozen=True)
class Uploader:
    """Everything an upload touches, for one request: Slack, Altegio, the store, the settings."""

    client: AsyncWebClient
    altegio: AltegioClient
    store: Store
    config: HandlerConfig
    team: str
    downloader: Downloader
    t: Translator = ENGLISH  # the language of whoever acts: replies in the thread speak it


class _Refused(Exception):
    """A file that will not be uploaded. `say(t)` is the reason in the language of `t`: the
    thread reads it in the sharer's language, the audit trail in English (`logged`, when the
    sentence exists in one language only), like every log."""

    def __init__(
        self, say: Callable[[Translator], str], *, retryable: bool, logged: str | None = None
    ) -> None:
        super().__init__()
        self.say = say
        self.retryable = retryable
        self.logged = logged or say(ENGLISH)


async def upload_file(
    up: Uploader, share: Share, target: Target, file: Mapping[str, Any]
) -> Result:
    """Check the file, claim it, transfer it to Altegio, and report the outcome in the thread."""
    name = file_name(file)
    try:
        file, kind, url = await _check(up, file)
        owner = await _claim(up, str(file.get("id") or ""))
        if owner is None:
            return Result.SKIPPED
        result, account = await _transfer(up, share, target, file, name, kind, url, owner)
    except _Refused as refused:
        await _audit(up, share, target, file, ok=False, reason=refused.logged)
        retry = _retry_request(share, target, file) if refused.retryable else None
        reason = refused.say(up.t)
        await reply(up.client, share, messages.failed(name, target, reason, retry, up.t))
        return Result.FAILED
    group = result.image_group.id if result.image_group else None
    await _audit(up, share, target, file, ok=True, reason=f"image group {group}")
    await reply(
        up.client,
        share,
        messages.uploaded(
            name,
            target,
            result,
            user_id=share.user_id,
            account=account,
            web_url=up.config.altegio_web_url,
            t=up.t,
        ),
    )
    return Result.UPLOADED


async def _audit(
    up: Uploader, share: Share, target: Target, file: Mapping[str, Any], *, ok: bool, reason: str
) -> None:
    await audit(
        up.store,
        up.team,
        share.user_id,
        PHOTO,
        channel=share.channel_id,
        location_id=target.location_id,
        target=f"{target.entity} {target.entity_id}",
        file_id=str(file.get("id") or ""),
        ok=ok,
        reason=reason,
    )


async def _check(up: Uploader, file: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, str]:
    """The full file object, its image type and download link, or _Refused saying why not."""
    file_id = str(file.get("id") or "")
    try:
        file = await _details(up.client, file)
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("files.info failed for %s: %s", file_id, error)
        if error == "file_not_found":
            raise _Refused(messages.file_gone, retryable=False) from None
        raise _Refused(partial(messages.files_info_failed, error), retryable=True) from None
    kind = metadata_type(file)
    if kind is None:
        kind_name = str(file.get("pretty_type") or file.get("filetype") or "file")
        raise _Refused(partial(messages.not_jpeg_or_png, kind_name), retryable=False)
    limit = up.config.max_image_bytes
    size = file.get("size")
    if isinstance(size, int) and size > limit:
        raise _Refused(lambda t: str(too_large(size, limit, t)), retryable=False)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not url:
        raise _Refused(messages.no_download_link, retryable=False)
    return file, kind, url


async def _claim(up: Uploader, file_id: str) -> str | None:
    owner = await up.store.claim_file(up.team, file_id, lease_seconds=PHOTO_LEASE_SECONDS)
    if owner is None:
        log.info("file %s is uploaded already or being uploaded: skipped", file_id)
    return owner


async def _transfer(
    up: Uploader,
    share: Share,
    target: Target,
    file: Mapping[str, Any],
    name: str,
    kind: str,
    url: str,
    owner: str,
) -> tuple[ImageUpload, LinkedAccount]:
    """Download from Slack and upload to Altegio, on the account returned with the result;
    record the outcome of the claim either way."""
    file_id = str(file.get("id") or "")
    log.info(
        "uploading file %s as %s %s at location %s",
        file_id,
        target.entity,
        target.entity_id,
        target.location_id,
        extra={"location_id": target.location_id},
    )
    try:
        async with asyncio.timeout(PHOTO_DEADLINE_SECONDS):
            async with up.downloader.slot(up.config.photo_concurrency):
                result, account = await _download_and_upload(up, share, target, name, kind, url)
    except TimeoutError:
        await _finish(up, file_id, owner, ok=False, detail="deadline")
        log.warning("upload of %s did not finish within %.0f s", file_id, PHOTO_DEADLINE_SECONDS)
        raise _Refused(messages.took_too_long, retryable=True) from None
    except DownloadError as exc:
        await _finish(up, file_id, owner, ok=False, detail=exc.code)
        said = str(exc)  # worded by the downloader in the sharer's language
        raise _Refused(lambda _t: said, retryable=exc.retryable, logged=exc.summary) from None
    except (NotLinked, SessionEnded) as exc:
        await _finish(up, file_id, owner, ok=False, detail="not linked")
        await whisper(up.client, share, describe(exc, up.t), reply_blocks(exc, up.t))
        raise _Refused(messages.uploader_not_linked, retryable=True) from None
    except AltegioError as exc:
        await _finish(up, file_id, owner, ok=False, detail=type(exc).__name__)
        log.warning("upload of %s refused: %s %s", file_id, type(exc).__name__, exc.status)
        raise _Refused(partial(altegio_reason, exc, target), retryable=True) from None
    except Exception as exc:
        await _finish(up, file_id, owner, ok=False, detail=type(exc).__name__)
        log.exception("upload of %s failed", file_id)
        raise _Refused(partial(describe, exc), retryable=True) from None
    group_id = result.image_group.id if result.image_group else None
    await _finish(up, file_id, owner, ok=True, detail=f"image group {group_id}")
    log.info("file %s uploaded: image group %s, bound %s", file_id, group_id, result.image_binded)
    return result, account


async def _download_and_upload(
    up: Uploader, share: Share, target: Target, name: str, kind: str, url: str
) -> tuple[ImageUpload, LinkedAccount]:
    """The transfer itself, on the acting person's own Altegio session (a WRITE: never the
    service account); its caller holds a photo slot for as long as the bytes live."""
    content, sniffed = await up.downloader.fetch(
        url,
        token=up.client.token,
        trusted_hosts=up.config.slack_hosts,
        max_bytes=up.config.max_image_bytes,
        t=up.t,
    )
    if sniffed != kind:
        raise NotAnImage(messages.mislabelled(NAMES[kind], NAMES[sniffed], up.t))
    async with acting_as(up.store, up.config, up.team, share.user_id, purpose=WRITE) as credential:
        if credential.account is None:  # a WRITE has a linked session or raised NotLinked
            raise NotLinked()
        uploaded = await up.altegio.upload_image(
            target.entity,
            company_id=target.location_id,
            entity_id=target.entity_id,
            content=content,
            filename=upload_filename(name, sniffed),
            content_type=sniffed,
            user_token=credential.token,
        )
        return uploaded, credential.account


def _retry_request(share: Share, target: Target, file: Mapping[str, Any]) -> RetryRequest:
    return RetryRequest(
        file_id=str(file.get("id") or ""),
        channel_id=share.channel_id,
        ts=share.ts,
        thread_ts=share.thread_ts,
        entity=target.entity,
        entity_id=target.entity_id,
        location_id=target.location_id,
    )


def altegio_reason(error: AltegioError, target: Target, t: Translator = ENGLISH) -> str:
    if isinstance(error, NotFound):
        said = (error.message or "").strip().rstrip(".")
        shown = blocks.escape(said, REASON) if said else ""
        return messages.not_found_in_altegio(target, shown, t)
    return describe(error, t)


def upload_filename(name: str, content_type: str) -> str:
    stem = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._")[:100] or "photo"
    extensions = (".png",) if content_type == "image/png" else (".jpg", ".jpeg")
    return stem if stem.lower().endswith(extensions) else stem + extensions[0]


async def _details(client: AsyncWebClient, file: Mapping[str, Any]) -> Mapping[str, Any]:
    """The full file object; events may carry only a stub that says to ask files.info."""
    complete = (
        file.get("file_access") != "check_file_info"
        and file.get("url_private_download")
        and (file.get("mimetype") or file.get("filetype"))
    )
    if complete:
        return file
    response = await client.files_info(file=str(file.get("id")))
    details = response.get("file")
    return details if isinstance(details, dict) else file


async def _finish(up: Uploader, file_id: str, owner: str, *, ok: bool, detail: str) -> None:
    try:
        recorded = await up.store.finish_file(up.team, file_id, owner=owner, ok=ok, detail=detail)
    except Exception:  # the lease expires on its own, so the file can be tried again later
        log.exception("could not record the outcome for file %s", file_id)
        return
    if not recorded:  # our lease ran out and another upload took the file over: its call
        log.warning("file %s: the claim was taken over; this outcome is not recorded", file_id)


async def reply(client: AsyncWebClient, share: Share, message: Message) -> None:
    text, body = message
    try:
        await client.chat_postMessage(
            channel=share.channel_id,
            thread_ts=share.thread_ts,
            text=text,
            blocks=body,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        log.warning("could not reply in the thread: %s", slack_error(exc))


async def whisper(
    client: AsyncWebClient, share: Share, text: str, body: list[blocks.Block]
) -> None:
    """A note only the acting user sees, beside the share."""
    try:
        await client.chat_postEphemeral(
            channel=share.channel_id,
            user=share.user_id,
            text=text,
            blocks=body,
            **({"thread_ts": share.thread_ts} if share.thread_ts != share.ts else {}),
        )
    except SlackApiError as exc:
        log.warning("could not send a private note: %s", slack_error(exc))


async def react(client: AsyncWebClient, share: Share, results: list[Result]) -> None:
    names = []
    if Result.UPLOADED in results:
        names.append(messages.SUCCESS_EMOJI)
    if Result.FAILED in results:
        names.append(messages.FAILURE_EMOJI)
    for name in names:
        try:
            await client.reactions_add(channel=share.channel_id, timestamp=share.ts, name=name)
        except SlackApiError as exc:
            if slack_error(exc) != "already_reacted":
                log.warning("could not react to the share: %s", slack_error(exc))
