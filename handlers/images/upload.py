"""One shared file to Altegio: check, claim, download, upload, record, answer in the thread.

Shared by the photo-share event and the Try again button. The file is claimed in the store
before anything is downloaded, so that a duplicate delivery, a second process or a double
click never uploads it twice; a failure releases the claim (state "failed") so that the user
can try again.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from api import AltegioError, NotFound
from handlers import blocks
from handlers.credentials import acting_as
from handlers.deps import deps, team_of
from handlers.errors import NotLinked, SessionEnded, describe, reply_blocks, slack_error
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

log = logging.getLogger("altegio.images")


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


async def upload_file(
    context: AsyncBoltContext,
    downloader: Downloader,
    share: Share,
    target: Target,
    file: Mapping[str, Any],
) -> Result:
    d = deps(context)
    team = team_of(context)
    file_id = str(file.get("id") or "")
    name = file_name(file)
    retry = RetryRequest(
        file_id=file_id,
        channel_id=share.channel_id,
        ts=share.ts,
        thread_ts=share.thread_ts,
        entity=target.entity,
        entity_id=target.entity_id,
        location_id=target.location_id,
    )

    async def refuse(reason: str, *, retryable: bool) -> Result:
        await reply(
            context, share, messages.failed(name, target, reason, retry if retryable else None)
        )
        return Result.FAILED

    try:
        file = await _details(context, file)
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("files.info failed for %s: %s", file_id, error)
        if error == "file_not_found":
            return await refuse("Slack no longer has the file.", retryable=False)
        return await refuse(f"Slack would not describe the file ({error}).", retryable=True)

    kind = metadata_type(file)
    if kind is None:
        kind_name = blocks.escape(str(file.get("pretty_type") or file.get("filetype") or "file"))
        return await refuse(
            f"Altegio takes JPEG and PNG images, and this is a {kind_name}.", retryable=False
        )
    limit = d.config.max_image_bytes
    size = file.get("size")
    if isinstance(size, int) and size > limit:
        return await refuse(str(too_large(size, limit)), retryable=False)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not url:
        return await refuse("Slack gave me no link to download it.", retryable=False)

    if not await d.store.claim_file(team, file_id):
        log.info("file %s is uploaded already or being uploaded: skipped", file_id)
        return Result.SKIPPED
    log.info(
        "uploading file %s as %s %s at location %s",
        file_id,
        target.entity,
        target.entity_id,
        target.location_id,
        extra={"location_id": target.location_id},
    )
    try:
        content, sniffed = await downloader.fetch(
            url,
            token=context.client.token if context.client else None,
            trusted_hosts=d.config.slack_hosts,
            max_bytes=limit,
        )
        if sniffed != kind:
            raise NotAnImage(
                f"Slack calls it a {NAMES[kind]} image, but it holds {NAMES[sniffed]} data; "
                "save it again as a proper JPEG or PNG and share that."
            )
        async with acting_as(context, required=True) as credential:
            result = await d.altegio.upload_image(
                target.entity,
                company_id=target.location_id,
                entity_id=target.entity_id,
                content=content,
                filename=upload_filename(name, sniffed),
                content_type=sniffed,
                user_token=credential.token,
            )
    except DownloadError as exc:
        await _finish(context, file_id, ok=False, detail=exc.code)
        return await refuse(str(exc), retryable=exc.retryable)
    except (NotLinked, SessionEnded) as exc:
        await _finish(context, file_id, ok=False, detail="not linked")
        await whisper(context, share, describe(exc), reply_blocks(exc))
        return await refuse(
            "the Altegio account that would upload it is not linked. "
            "Link it, then press Try again.",
            retryable=True,
        )
    except AltegioError as exc:
        await _finish(context, file_id, ok=False, detail=type(exc).__name__)
        log.warning("upload of %s refused: %s %s", file_id, type(exc).__name__, exc.status)
        return await refuse(altegio_reason(exc, target), retryable=True)
    except Exception as exc:
        await _finish(context, file_id, ok=False, detail=type(exc).__name__)
        log.exception("upload of %s failed", file_id)
        return await refuse(describe(exc), retryable=True)

    group_id = result.image_group.id if result.image_group else None
    await _finish(context, file_id, ok=True, detail=f"image group {group_id}")
    log.info("file %s uploaded: image group %s, bound %s", file_id, group_id, result.image_binded)
    await reply(
        context,
        share,
        messages.uploaded(
            name, target, result, user_id=share.user_id, web_url=d.config.altegio_web_url
        ),
    )
    return Result.UPLOADED


def altegio_reason(error: AltegioError, target: Target) -> str:
    if isinstance(error, NotFound):
        said = (error.message or "").strip().rstrip(".")
        where = f"{target.label} at location {target.location_id}"
        return f"Altegio could not find {where}" + (
            f" (it said: {blocks.escape(said)})." if said else "."
        )
    return describe(error)


def upload_filename(name: str, content_type: str) -> str:
    stem = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._")[:100] or "photo"
    extensions = (".png",) if content_type == "image/png" else (".jpg", ".jpeg")
    return stem if stem.lower().endswith(extensions) else stem + extensions[0]


async def _details(context: AsyncBoltContext, file: Mapping[str, Any]) -> Mapping[str, Any]:
    """The full file object; events may carry only a stub that says to ask files.info."""
    complete = (
        file.get("file_access") != "check_file_info"
        and file.get("url_private_download")
        and (file.get("mimetype") or file.get("filetype"))
    )
    if complete or context.client is None:
        return file
    response = await context.client.files_info(file=str(file.get("id")))
    details = response.get("file")
    return details if isinstance(details, dict) else file


async def _finish(context: AsyncBoltContext, file_id: str, *, ok: bool, detail: str) -> None:
    try:
        await deps(context).store.finish_file(team_of(context), file_id, ok=ok, detail=detail)
    except Exception:  # the lease expires on its own, so the file can be tried again later
        log.exception("could not record the outcome for file %s", file_id)


async def reply(context: AsyncBoltContext, share: Share, message: messages.Message) -> None:
    text, body = message
    try:
        await context.client.chat_postMessage(  # type: ignore[union-attr]
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
    context: AsyncBoltContext, share: Share, text: str, body: list[blocks.Block]
) -> None:
    """A note only the acting user sees, beside the share."""
    try:
        await context.client.chat_postEphemeral(  # type: ignore[union-attr]
            channel=share.channel_id,
            user=share.user_id,
            text=text,
            blocks=body,
            **({"thread_ts": share.thread_ts} if share.thread_ts != share.ts else {}),
        )
    except SlackApiError as exc:
        log.warning("could not send a private note: %s", slack_error(exc))


async def react(context: AsyncBoltContext, share: Share, results: list[Result]) -> None:
    names = []
    if Result.UPLOADED in results:
        names.append(messages.SUCCESS_EMOJI)
    if Result.FAILED in results:
        names.append(messages.FAILURE_EMOJI)
    for name in names:
        try:
            await context.client.reactions_add(  # type: ignore[union-attr]
                channel=share.channel_id, timestamp=share.ts, name=name
            )
        except SlackApiError as exc:
            if slack_error(exc) != "already_reacted":
                log.warning("could not react to the share: %s", slack_error(exc))
