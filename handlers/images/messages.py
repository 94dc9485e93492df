"""Block Kit and texts for photo shares. Pure functions: data in, (text, blocks) out, in the
language of the person who shared the photo or pressed Try again (`t`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from api import ImageUpload
from handlers import blocks
from handlers.blocks import Message
from handlers.i18n import ENGLISH, Translator
from handlers.images.caption import Entity, Target
from handlers.store import LinkedAccount

RETRY_ACTION = "images_retry"
SUCCESS_EMOJI = "white_check_mark"
FAILURE_EMOJI = "x"


def usage(t: Translator = ENGLISH) -> str:
    return t._(
        "*Photo captions*\n"
        "`master 17 location 4523464` — make the photo team member 17's image\n"
        "`service 9 location 4523464` — make it service 9's image\n"
        "`team_member` or `staff` work like `master`, `company` like `location`, "
        "and ids may be written `17`, `#17` or `id 17`."
    )


USAGE = usage()


def file_gone(t: Translator = ENGLISH) -> str:
    return t._("Slack no longer has the file.")


def no_download_link(t: Translator = ENGLISH) -> str:
    return t._("Slack gave me no link to download it.")


def took_too_long(t: Translator = ENGLISH) -> str:
    return t._("it took too long (Slack or Altegio is slow or busy right now).")


def uploader_not_linked(t: Translator = ENGLISH) -> str:
    return t._(
        "the Altegio account that would upload it is not linked. Link it, then press Try again."
    )


def button_expired(t: Translator = ENGLISH) -> str:
    return t._("This button no longer works. Share the photo again, please.")


def file_not_found(t: Translator = ENGLISH) -> str:
    return t._("Slack no longer has that file, so there is nothing to upload.")


def upload_failed(t: Translator = ENGLISH) -> str:
    return t._("The upload failed.")


def files_info_failed(error: str | None, t: Translator = ENGLISH) -> str:
    return t._("Slack would not describe the file (%(error)s).", error=blocks.escape(str(error)))


def not_jpeg_or_png(kind_name: str, t: Translator = ENGLISH) -> str:
    return t._(
        "Altegio takes JPEG and PNG images, and this is a %(kind)s.",
        kind=blocks.escape(kind_name),
    )


def mislabelled(declared: str, actual: str, t: Translator = ENGLISH) -> str:
    return t._(
        "Slack calls it a %(declared)s image, but it holds %(actual)s data; "
        "save it again as a proper JPEG or PNG and share that.",
        declared=declared,
        actual=actual,
    )


def usage_reply(problem: str, t: Translator = ENGLISH) -> Message:
    return blocks.message(
        f"{problem}\n\n{usage(t)}",
        [blocks.section(f":information_source: {problem}"), blocks.section(usage(t))],
        t,
    )


def login_prompt(file_names: list[str], t: Translator = ENGLISH) -> Message:
    text = t._(
        "To upload %(files)s to Altegio I need your Altegio account. "
        "Link it with the button (or `/altegio login`), then share the photo again.",
        files=_names(file_names, t),
    )
    return blocks.message(text, blocks.login_prompt(text, t), t)


def already_handled(name: str, t: Translator = ENGLISH) -> Message:
    text = t._(
        "`%(file)s` has been uploaded to Altegio already (or is being uploaded now).",
        file=_safe(name, t),
    )
    return blocks.message(text, [blocks.context(f":information_source: {text}")], t)


def _uploaded_text(name: str, target: Target, bound: bool, t: Translator) -> str:
    # One whole sentence per record kind and outcome: languages inflect "team member".
    values = {"file": name, "id": target.entity_id, "location": target.location_id}
    if target.entity == "master":
        if bound:
            return t._(
                "`%(file)s` is now the image of team member %(id)s at location %(location)s.",
                **values,
            )
        return t._(
            "`%(file)s` was uploaded for team member %(id)s at location %(location)s, "
            "but Altegio did not bind it (it may need binding in Altegio).",
            **values,
        )
    if bound:
        return t._(
            "`%(file)s` is now the image of service %(id)s at location %(location)s.", **values
        )
    return t._(
        "`%(file)s` was uploaded for service %(id)s at location %(location)s, "
        "but Altegio did not bind it (it may need binding in Altegio).",
        **values,
    )


def uploaded(
    name: str,
    target: Target,
    result: ImageUpload,
    *,
    user_id: str,
    account: LinkedAccount,
    web_url: str,
    t: Translator = ENGLISH,
) -> Message:
    """The upload's confirmation in the thread. It names the Altegio account that uploaded it
    (the sharer's own: uploads never run on the workspace's shared account), as whoami does."""
    group = result.image_group
    text = _uploaded_text(_safe(name, t), target, bool(result.image_binded), t)
    details = []
    if group is not None:
        details.append(t._("Image group %(id)s", id=group.id))
    link = image_link(result, web_url)
    if link:
        label = t._("View the image")  # outside the f-string, where pybabel can find it
        details.append(f"<{link}|{label}>")
    details.append(
        t._(
            "Uploaded with <@%(user)s>'s own Altegio account (%(account)s).",
            user=user_id,
            account=account_name(account),
        )
    )
    return blocks.message(
        text,
        [blocks.section(f":{SUCCESS_EMOJI}: {text}"), blocks.context(" · ".join(details))],
        t,
    )


def account_name(account: LinkedAccount) -> str:
    """The account as whoami names it: its name, else its login; escaped, kept short."""
    return blocks.escape(account.name.strip() or account.login, 80)


def _failed_text(name: str, target: Target | None, reason: str, t: Translator) -> str:
    if target is None:
        return t._("`%(file)s` was not uploaded: %(reason)s", file=name, reason=reason)
    values = {"file": name, "id": target.entity_id, "location": target.location_id}
    if target.entity == "master":
        return t._(
            "`%(file)s` was not uploaded for team member %(id)s at location %(location)s: "
            "%(reason)s",
            reason=reason,
            **values,
        )
    return t._(
        "`%(file)s` was not uploaded for service %(id)s at location %(location)s: %(reason)s",
        reason=reason,
        **values,
    )


def failed(
    name: str,
    target: Target | None,
    reason: str,
    retry: RetryRequest | None,
    t: Translator = ENGLISH,
) -> Message:
    text = _failed_text(_safe(name, t), target, reason, t)
    out = [blocks.section(f":{FAILURE_EMOJI}: {text}")]
    if retry is not None:
        out.append(
            blocks.actions(
                blocks.button(t._("Try again"), RETRY_ACTION, retry.encode()),
                block_id="images_retry",
            )
        )
    return blocks.message(text, out, t)


def retried(user_id: str, original_text: str, t: Translator = ENGLISH) -> Message:
    text = t._(
        "%(original)s\n<@%(user)s> tried again: see the reply below.",
        original=original_text,
        user=user_id,
    )
    return blocks.message(
        text,
        [
            blocks.section(original_text),
            blocks.context(t._("<@%(user)s> tried again.", user=user_id)),
        ],
        t,
    )


def not_found_in_altegio(target: Target, said: str, t: Translator = ENGLISH) -> str:
    """Altegio's 404 for an upload; `said` is Altegio's own words (escaped), or ""."""
    values = {"id": target.entity_id, "location": target.location_id, "said": said}
    if target.entity == "master":
        if said:
            return t._(
                "Altegio could not find team member %(id)s at location %(location)s "
                "(it said: %(said)s).",
                **values,
            )
        return t._("Altegio could not find team member %(id)s at location %(location)s.", **values)
    if said:
        return t._(
            "Altegio could not find service %(id)s at location %(location)s (it said: %(said)s).",
            **values,
        )
    return t._("Altegio could not find service %(id)s at location %(location)s.", **values)


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


def _names(names: list[str], t: Translator = ENGLISH) -> str:
    shown = [f"`{_safe(n, t)}`" for n in names[:3]]
    if not shown:
        return t._("this photo")
    if len(names) > 3:
        more = len(names) - 3
        return t.ngettext(
            "%(files)s and %(n)s more", "%(files)s and %(n)s more", more, files=", ".join(shown)
        )
    return t.join(shown)


def _safe(name: str, t: Translator = ENGLISH) -> str:
    return blocks.escape(blocks.clip(name.replace("`", "'"), 80)) or t._("the file")


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
