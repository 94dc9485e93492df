"""What several commands read from the user's text the same way: help words, location ids, and
how user text is quoted back inside a reply."""

from __future__ import annotations

import re

from handlers.blocks import clip, escape

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?"})
MAX_ID_DIGITS = 12


def asks_for_help(text: str) -> bool:
    """True for an empty command or one whose first word asks for help."""
    words = text.split()
    return not words or words[0].lower() in HELP_WORDS


def location_id(word: str) -> int | None:
    """A location id typed as a word ("4523464", "4523464,"), or None if it is not one."""
    cleaned = word.strip(",;")
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > MAX_ID_DIGITS:
        return None
    return int(cleaned) or None


_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_DECODED = {"amp": "&", "lt": "<", "gt": ">"}


def from_slack(text: str) -> str:
    """Text as the person typed it, from Slack's encoding of it (command text, a caption).

    Slack sends a typed `<` as `&lt;` (and `&`, `>` likewise). Decoded once here, on the way
    in, so that `blocks.escape` on the way out shows exactly what was typed, never `&amp;lt;`.
    """
    return _SLACK_ENTITY.sub(lambda m: _DECODED[m.group(1)], text)


def quote(text: str) -> str:
    """User text shown back inside `code`, escaped: no backticks to break out of it, short."""
    return escape(clip(text.replace("`", "'"), 40))
