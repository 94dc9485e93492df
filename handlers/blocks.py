"""Block Kit pieces shared by several features. Pure functions: data in, blocks out."""

from __future__ import annotations

from typing import Any, NamedTuple

Block = dict[str, Any]


class Message(NamedTuple):
    """A reply: the plain text Slack shows in notifications, and the blocks it shows in chat."""

    text: str
    blocks: list[Block] | None = None  # None: text only


LOGIN_ACTION = "altegio_login"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in pairs],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
    }
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def login_prompt(text: str) -> list[Block]:
    """A sentence and a button that opens the Altegio login modal."""
    return [section(text), actions(button("Link Altegio account", LOGIN_ACTION, style="primary"))]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
