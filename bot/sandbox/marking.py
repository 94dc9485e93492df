"""Every message the bot sends while it runs against the sandbox says so.

Replies leave the bot through two doors only: the Web API client (chat.*, views.*) and
respond() (a command's response_url). Both are wrapped here, so no feature has to know.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

NOTE = ":test_tube: Sandbox data — not a real Altegio account"
TEXT_PREFIX = "[Sandbox data]"
NOTE_BLOCK: dict[str, Any] = {
    "type": "context",
    "block_id": "sandbox_note",
    "elements": [{"type": "mrkdwn", "text": NOTE}],
}
MAX_SECTION_TEXT = 3000  # Block Kit's limit on a section's text
_MESSAGES = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
_VIEWS = {"views.open", "views.push", "views.update", "views.publish"}


def mark_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message (text and blocks) with the sandbox note added."""
    marked = dict(message)
    text = marked.get("text")
    if isinstance(text, str) and text and not text.startswith(TEXT_PREFIX):
        marked["text"] = f"{TEXT_PREFIX} {text}"
    blocks = marked.get("blocks")
    was_json = isinstance(blocks, str)
    if was_json:
        blocks = json.loads(blocks)
    if isinstance(blocks, list) and blocks:
        blocks = _with_note(blocks)
        marked["blocks"] = json.dumps(blocks) if was_json else blocks
    elif not blocks and isinstance(text, str) and text and len(text) <= MAX_SECTION_TEXT:
        # A text-only message (blocks absent, None or empty): its text in a section, then the
        # note. A longer text than a section holds keeps only the prefix above.
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, NOTE_BLOCK]
        marked["blocks"] = json.dumps(blocks) if was_json else blocks
    return marked


def mark_view(view: dict[str, Any] | str) -> dict[str, Any] | str:
    was_json = isinstance(view, str)
    data = json.loads(view) if isinstance(view, str) else dict(view)
    data["blocks"] = _with_note(list(data.get("blocks") or []))
    return json.dumps(data) if was_json else data


def _with_note(blocks: list[Any]) -> list[Any]:
    """The note last, once: an updated message (a clicked alert) keeps its blocks, note and all,
    and may add some after it."""
    note = NOTE_BLOCK["block_id"]
    return [
        *(b for b in blocks if not (isinstance(b, dict) and b.get("block_id") == note)),
        NOTE_BLOCK,
    ]


def mark_client(client: AsyncWebClient) -> AsyncWebClient:
    """Wrap this client's api_call so that every message and view it sends is marked."""
    send: Callable[..., Awaitable[Any]] = client.api_call

    async def api_call(api_method: str, **kwargs: Any) -> Any:
        if api_method in _MESSAGES or api_method in _VIEWS:
            for part in ("json", "params", "data"):
                args = kwargs.get(part)
                if not isinstance(args, dict):
                    continue
                if api_method in _MESSAGES and ("text" in args or "blocks" in args):
                    kwargs[part] = mark_message(args)
                elif api_method in _VIEWS and "view" in args:
                    kwargs[part] = {**args, "view": mark_view(args["view"])}
        return await send(api_method, **kwargs)

    client.api_call = api_call  # type: ignore[method-assign]
    return client
