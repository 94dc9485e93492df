"""Block Kit and texts for photo shares. Pure functions: data in, (text, blocks) out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from api import ImageUpload
from handlers import blocks
from handlers.blocks import Message
from handlers.images.caption import Entity, Target

RETRY_ACTION = "images_retry"
SUCCESS_EMOJI = "white_check_mark"
FAILURE_EMOJI = "x"

USAGE = (
    "*Photo captions*\n"
    "`master 17 location 4523464` — make the photo team member 17's image\n"
    "`service 9 location 4523464` — make it service 9's image\n"
    "`team_member` or `staff` work like `master`, `company` like `location`, "
    "and ids may be written `17`, `#17` or `id 17`."
)


FILE_GONE = "Slack no longer has the file."
NO_DOWNLOAD_LINK = "Slack gave me no link to download it."
TOOK_TOO_LONG = "it took too long (Slack or Altegio is slow or busy right now)."
UPLOADER_NOT_LINKED = (
    "the Altegio account that would upload it is not linked. Link it, then press Try again."
)


def files_info_failed(error: str | None) -> str:
    return f"Slack would not describe the file ({blocks.escape(blocks.clip(error or '', 60))})."


def not_jpeg_or_png(kind_name: str) -> str:
    return f"Altegio takes JPEG and PNG images, and this is a {blocks.escape(kind_name)}."


def mislabelled(declared: str, actual: str) -> str:
    return (
        f"Slack calls it a {declared} image, but it holds {actual} data; "
        "save it again as a proper JPEG or PNG and share that."
    )


def usage_reply(problem: str) -> Message:
    return Message(
        f"{problem}\n\n{USAGE}",
        [blocks.section(f":information_source: {problem}"), blocks.section(USAGE)],
    )


def login_prompt(file_names: list[str]) -> Message:
    what = _names(file_names)
    text = (
        f"To upload {what} to Altegio I need your Altegio account. "
        "Link it with the button (or `/altegio login`), then share the photo again."
    )
    return Message(text, blocks.login_prompt(text))


def already_handled(name: str) -> Message:
    text = f"`{_safe(name)}` has been uploaded to Altegio already (or is being uploaded now)."
    return Message(text, [blocks.context(f":information_source: {text}")])


def uploaded(
    name: str, target: Target, result: ImageUpload, *, user_id: str, web_url: str
) -> Message:
    group = result.image_group
    what = f"{target.label} at location {target.location_id}"
    if result.image_binded:
        text = f"`{_safe(name)}` is now the image of {what}."
    else:
        text = (
            f"`{_safe(name)}` was uploaded for {what}, "
            "but Altegio did not bind it (it may need binding in Altegio)."
        )
    details = []
    if group is not None:
        details.append(f"Image group {group.id}")
    link = image_link(result, web_url)
    if link:
        details.append(f"<{link}|View the image>")
    details.append(f"Uploaded with <@{user_id}>'s Altegio account")
    return Message(
        text, [blocks.section(f":{SUCCESS_EMOJI}: {text}"), blocks.context(" · ".join(details))]
    )


def failed(name: str, target: Target | None, reason: str, retry: RetryRequest | None) -> Message:
    what = f" for {target.label} at location {target.location_id}" if target else ""
    text = f"`{_safe(name)}` was not uploaded{what}: {reason}"
    out = [blocks.section(f":{FAILURE_EMOJI}: {text}")]
    if retry is not None:
        out.append(
            blocks.actions(
                blocks.button("Try again", RETRY_ACTION, retry.encode()),
                block_id="images_retry",
            )
        )
    return Message(text, out)


def retried(user_id: str, original_text: str) -> Message:
    text = f"{original_text}\n<@{user_id}> tried again: see the reply below."
    return Message(
        text, [blocks.section(original_text), blocks.context(f"<@{user_id}> tried again.")]
    )


def image_link(result: ImageUpload, web_url: str) -> str | None:
    """An http(s) link to the uploaded image: the "basic" version, else the widest."""
    group = result.image_group
    if group is None or not group.images:
        return None
    versions = [v for v in group.images.values() if v.path]
    if not versions:
        return None
    basic = group.images.get("basic")
    chosen = (
        basic if basic is not None and basic.path else max(versions, key=lambda v: v.width or 0)
    )
    link = urljoin(web_url.rstrip("/") + "/", chosen.path)
    if urlsplit(link).scheme not in ("http", "https") or any(c in link for c in "<>| \n"):
        return None
    return link


def _names(names: list[str]) -> str:
    shown = [f"`{_safe(n)}`" for n in names[:3]]
    if len(names) > 3:
        shown.append(f"{len(names) - 3} more")
    return ", ".join(shown) if shown else "this photo"


def _safe(name: str) -> str:
    return blocks.escape(blocks.clip(name.replace("`", "'"), 80)) or "the file"


@dataclass(frozen=True)
class RetryRequest:
    """What a Try again button carries: enough to find the file and the share again."""

    file_id: str
    channel_id: str
    ts: str  # the share's message: reactions go on it
    thread_ts: str  # replies go in this thread
    entity: Entity
    entity_id: int
    location_id: int

    @property
    def target(self) -> Target:
        return Target(self.entity, self.entity_id, self.location_id)

    def encode(self) -> str:
        return json.dumps(
            {
                "f": self.file_id,
                "c": self.channel_id,
                "ts": self.ts,
                "th": self.thread_ts,
                "e": self.entity,
                "i": self.entity_id,
                "l": self.location_id,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, value: str | None) -> RetryRequest | None:
        try:
            raw: Any = json.loads(value or "")
            request = cls(
                file_id=str(raw["f"]),
                channel_id=str(raw["c"]),
                ts=str(raw["ts"]),
                thread_ts=str(raw["th"]),
                entity=raw["e"],
                entity_id=int(raw["i"]),
                location_id=int(raw["l"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if request.entity not in ("master", "service") or not request.file_id:
            return None
        if request.entity_id <= 0 or request.location_id <= 0:
            return None
        return request
