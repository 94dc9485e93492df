"""Block Kit pieces shared by several features. Pure functions: data in, blocks out.

Two rules hold for everything the bot posts, whatever the input:

- Text that comes from a person or from Altegio is passed through `escape` once, where a
  builder puts it into mrkdwn: it shows as the characters typed, never as a mention, link or
  formatting. Text that arrives from Slack (command text, captions) is Slack-encoded (`&lt;`
  for `<`); `input.from_slack` decodes it once where it comes in, so nothing is escaped twice.
- Every piece keeps Slack's Block Kit limits (`LIMITS`): the builders here clip text (with an
  ellipsis) and `cap` long lists of blocks, so a 3,000-character reason from Altegio or a list
  of 500 ids still gives a message Slack accepts.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from handlers.i18n import ENGLISH, Translator

Block = dict[str, Any]


class Message(NamedTuple):
    """A reply: the plain text Slack shows in notifications, and the blocks it shows in chat."""

    text: str
    blocks: list[Block] | None = None  # None: text only


LOGIN_ACTION = "altegio_login"

# Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit/), in characters or items.
MESSAGE_BLOCKS = 50  # blocks in a message
VIEW_BLOCKS = 100  # blocks in a modal or the Home tab
TEXT = 3000  # a message's top-level text: Slack takes 40,000, but notifications want it short
SECTION_TEXT = 3000
FIELDS = 10  # fields in a section
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
HEADER_TEXT = 150
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
VIEW_TITLE = 24  # a modal's title, submit and close labels
ELLIPSIS = "…"
# Characters of a name from a person or Altegio (a plan, an option, an account's name) shown
# inside a sentence, escaped: a 3,000-character plan must not push the rest out of its section.
NAME_SHOWN = 200

_WORD_JOINER = "\u2060"
# mrkdwn's formatting characters: *bold*, _italic_, ~strike~, `code`.
_FORMATTING = re.compile(r"([*_~`])")
_QUOTE_MARK = re.compile(r"(^|\n)&gt;")  # ">" opening a line starts a block quote
_HALF_ESCAPED = re.compile(_WORD_JOINER + r"[*_~`]$")  # a mark cut from its closing joiner


def escape(text: str, most: int | None = None) -> str:
    """Text from a person or from Altegio, safe to put into mrkdwn: shown as typed.

    `&`, `<` and `>` become entities, so `<!channel>` or `<https://x|y>` is never a mention or
    a link. mrkdwn has no escape for `*`, `_`, `~` and backticks, so each gets an invisible
    word joiner on both sides: no longer at a word's edge, it formats nothing and still shows.
    Call it exactly once per piece of text (a second call would show `&amp;lt;`).
    Given `most`, the escaped text is clipped to that many characters: what Slack counts.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _FORMATTING.sub(_WORD_JOINER + r"\1" + _WORD_JOINER, text)
    text = _QUOTE_MARK.sub(r"\1" + _WORD_JOINER + "&gt;", text)
    return text if most is None else clip(text, most)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut.

    The cut never splits an entity (`&amp;`) or Slack markup (`<#C123>`, `<!date…>`): what is
    cut away is whole, so the rest stays valid mrkdwn.
    """
    if len(text) <= limit:
        return text
    kept = text[: max(limit - len(ELLIPSIS), 0)]
    amp = kept.rfind("&")
    if amp >= 0 and ";" not in kept[amp:] and len(kept) - amp < len("&amp;"):  # inside "&amp;"
        kept = kept[:amp]
    opened, closed = kept.rfind("<"), kept.rfind(">")
    if opened > closed:  # inside "<…>"
        kept = kept[:opened]
    # An escaped `*` cut from its closing joiner would touch the ellipsis: drop it whole.
    return _HALF_ESCAPED.sub("", kept.rstrip(_WORD_JOINER)) + ELLIPSIS


def more_note(count: int, t: Translator = ENGLISH) -> Block:
    """The line that stands for the blocks that did not fit: "…and 40 more not shown."."""
    return context(t.ngettext("…and %(n)s more not shown.", "…and %(n)s more not shown.", count))


def cap(blocks: list[Block], limit: int = MESSAGE_BLOCKS, t: Translator = ENGLISH) -> list[Block]:
    """At most `limit` blocks; when more were built, the last says how many were left out,
    in the reader's language."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, more_note(len(blocks) - len(kept), t)]


def message(text: str, blocks: list[Block] | None = None, t: Translator = ENGLISH) -> Message:
    """A reply within Slack's limits: short top-level text, at most 50 blocks."""
    return Message(clip(text, TEXT), cap(blocks, MESSAGE_BLOCKS, t) if blocks is not None else None)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}


def context(*texts: str, t: Translator = ENGLISH) -> Block:
    shown = list(texts[:CONTEXT_ELEMENTS])
    if len(texts) > CONTEXT_ELEMENTS:  # the last element says how many were left out
        left_out = len(texts) - CONTEXT_ELEMENTS + 1
        shown[-1] = t.ngettext("…and %(n)s more", "…and %(n)s more", left_out)
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_TEXT)} for text in shown],
    }


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", FIELD_TEXT)}
            for label, value in pairs[:FIELDS]
        ],
    }


def header(text: str) -> Block:
    """A header: plain text, never parsed for mentions or formatting."""
    return {"type": "header", "text": plain_text(text, HEADER_TEXT)}


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object: shown exactly as given (only `:emoji:` codes are drawn)."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain_text(text, BUTTON_TEXT),
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:BUTTON_VALUE]
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id
    return block


def login_prompt(text: str, t: Translator = ENGLISH) -> list[Block]:
    """A sentence and a button that opens the Altegio login modal."""
    return [
        section(text),
        actions(button(t._("Link Altegio account"), LOGIN_ACTION, style="primary")),
    ]


def shared_account_note(t: Translator = ENGLISH) -> Block:
    """The line under an answer the operator's service account looked up, so that nobody takes
    it for what their own Altegio account would see."""
    return context(t._("Looked up with this workspace's shared Altegio account."))


def noted(
    body: list[Block] | None, text: str, note: Block, limit: int = MESSAGE_BLOCKS
) -> list[Block]:
    """`body` (or a section of `text` when there is none) with `note` last, within `limit`."""
    shown = body if body is not None else [section(text)]
    return [*cap(shown, limit - 1), note]
