"""What several commands read from the user's text the same way: help and subcommand words in
any of the bot's languages, location ids, and how user text is quoted back inside a reply."""

from __future__ import annotations

import re

from handlers import words as vocabulary
from handlers.blocks import clip, escape
from handlers.words import Vocabulary, fold

MAX_ID_DIGITS = 12
# Punctuation people put around a word that does not change it: `¿quién soy?`, `help!`.
_AROUND = "¿¡!.,;:\"'«»“”"


def _key(word: str) -> str:
    key = fold(word).strip(_AROUND)
    return key.rstrip("?") or key  # `?` alone asks for help


class Phrases:
    """The words (or phrases of words) for each meaning, read from the start of a command."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._meanings: dict[tuple[str, ...], str] = {}
        for meaning, languages in vocabulary.items():
            for phrases in languages.values():
                for phrase in phrases:
                    self._meanings[tuple(_key(w) for w in phrase.split())] = meaning
        self._longest = max(len(k) for k in self._meanings)

    def match(self, words: list[str]) -> tuple[str | None, list[str]]:
        """(meaning, the words after its phrase), or (None, words) when none starts them.
        The longest phrase wins: `dejar de vigilar 1` is `unwatch` followed by `1`."""
        keys = [_key(w) for w in words[: self._longest]]
        for length in range(len(keys), 0, -1):
            meaning = self._meanings.get(tuple(keys[:length]))
            if meaning is not None:
                return meaning, words[length:]
        return None, words


HELP = Phrases(vocabulary.HELP_WORDS)
WATCH = Phrases(vocabulary.WATCH_WORDS)
ACCOUNT = Phrases(vocabulary.ACCOUNT_WORDS)


def asks_for_help(text: str) -> bool:
    """True for an empty command or one whose first word asks for help, in any language."""
    words = text.split()
    return not words or HELP.match(words[:1])[0] == "help"


def is_help(text: str) -> bool:
    """True for an empty text or one that is nothing but a help word (`/phone ayuda`)."""
    words = text.split()
    meaning, rest = HELP.match(words)
    return not words or (meaning == "help" and not rest)


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
