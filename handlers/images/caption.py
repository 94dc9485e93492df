"""The caption grammar: which Altegio record a shared photo is for. A pure function.

A caption is for the bot when it names an entity (`master`, `team_member`, `team member`,
`staff` or `service`, or the same in Spanish, Portuguese or Russian: `handlers/words.py`) and
either gives it an id-like value or names a location too. Words are case-insensitive, with or
without accents, and may come in any order, with or without Slack formatting:

    master 17 location 4523464        service #9 company 4523464
    Location: 4523464, staff id 17    *team_member 17* location_id 4523464
    profesional 17 ubicación 4523464  serviço 9 unidade 4523464     мастер 17 филиал 4523464

A keyword may carry an `_id` suffix (`master_id`, `location_id`); its value may follow a `:`,
`=`, `#`, `№` or a word such as `id`, `nº` or `номер`. Ids are whole numbers from 1 up.

`parse_caption` returns None for a caption that is someone else's business ("service with a
smile!", "staff party tonight"), a `Target` for a complete one, and raises `CaptionError`
(one sentence saying what to fix) for one that is meant for the bot but incomplete or
malformed: no location, an id that is not a number, both a team member and a service, or two
different ids for the same thing. When some mentions carry ids, keywords without one are read
as prose ("staff 17 location 5, new service menu" is for team member 17).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from handlers.i18n import ENGLISH, Translator
from handlers.input import quote
from handlers.words import CAPTION_ID_WORDS, CAPTION_WORDS, fold

Entity = Literal["master", "service"]
Kind = Entity | Literal["location"]

MAX_ID_DIGITS = 12
LISTED_IDS = 5  # ids named back in a complaint about too many


def _squeezed(word: str) -> str:
    """A keyword as looked up: folded, with the spaces of `team member` (or `_`, `-`) gone."""
    return re.sub(r"[ _-]", "", fold(word))


def _pattern(word: str) -> str:
    """A keyword as matched in folded text: a space may be typed as `_`, `-` or left out."""
    return r"[ _-]?".join(re.escape(part) for part in fold(word).split())


_KINDS: dict[str, Kind] = {
    _squeezed(word): kind  # type: ignore[misc]
    for kind, languages in CAPTION_WORDS.items()
    for words in languages.values()
    for word in words
}
_KEYWORDS = sorted(
    {_pattern(w) for languages in CAPTION_WORDS.values() for ws in languages.values() for w in ws},
    key=len,
    reverse=True,
)
_ID_WORDS = sorted(
    {re.escape(fold(w)) for words in CAPTION_ID_WORDS.values() for w in words},
    key=len,
    reverse=True,
)
# Whole words in any script: no letter or digit just before a keyword (`_`, Slack's italics,
# may be there), and no letter just after it (a digit may: `master17`).
_NOT_AFTER_WORD = r"(?<![^\W_])"
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"
# A keyword as a whole word, matched in folded text (`fold`): case and accents do not matter.
_KEYWORD = re.compile(rf"{_NOT_AFTER_WORD}({'|'.join(_KEYWORDS)})(?:[ _-]?id)?{_NOT_BEFORE_LETTER}")
# What may stand between a keyword and its value: `: 17`, `= 17`, `#17`, `id 17`, `№ 17`.
_MARKS = r"[\s:=#№]*"
_SEPARATOR = re.compile(rf"{_MARKS}(?:(?:{'|'.join(_ID_WORDS)}){_NOT_BEFORE_LETTER}{_MARKS})?")
_VALUE = re.compile(r"[^\s,;]+")
_TRAILING = ".,;:!?)]}*_~`'\""
_SLACK_MARKUP = re.compile(r"<[^<>]*>")  # mentions, channel links, URLs
_FORMATTING = re.compile(r"[*~`]")


class CaptionError(ValueError):
    """The caption is meant for the bot but cannot be acted on. `text(t)` says how to fix it
    in the reader's language (the parser itself knows no reader); str() says it in English."""

    def __init__(self, say: Callable[[Translator], str]) -> None:
        self._say = say
        super().__init__(say(ENGLISH))

    def text(self, t: Translator = ENGLISH) -> str:
        return self._say(t)


@dataclass(frozen=True)
class Target:
    entity: Entity  # Altegio's name: "master" is a team member
    entity_id: int
    location_id: int

    @property
    def label(self) -> str:
        """How the log and the audit trail name it: "team member 17", "service 9"."""
        return f"{'team member' if self.entity == 'master' else 'service'} {self.entity_id}"


@dataclass(frozen=True)
class _Mention:
    word: str  # the keyword as typed, for messages
    kind: Kind
    raw: str  # the value as typed ("" when none followed)


def parse_caption(text: str) -> Target | None:
    """The photo's target from its caption; None if the caption is not for the bot."""
    mentions = _mentions(unicodedata.normalize("NFC", _plain(text)))
    entities = _meant([m for m in mentions if m.kind != "location"])
    locations = _meant([m for m in mentions if m.kind == "location"])
    if not entities:
        return None
    if not locations and not any(_looks_like_id(m.raw) for m in entities):
        return None

    kinds = {m.kind for m in entities}
    if len(kinds) > 1:
        raise CaptionError(
            lambda t: t._(
                "Name either a team member or a service, not both: one photo goes to one of them."
            )
        )
    entity: Entity = entities[0].kind  # type: ignore[assignment]
    entity_id = _one_id(entities, entity)
    if not locations:
        raise CaptionError(partial(_which_location, entity=entity, entity_id=entity_id))
    location_id = _one_id(locations, "location")
    return Target(entity=entity, entity_id=entity_id, location_id=location_id)


def _plain(text: str) -> str:
    text = _SLACK_MARKUP.sub(" ", text or "")
    return _FORMATTING.sub(" ", html.unescape(text))


def _mentions(text: str) -> list[_Mention]:
    """Each keyword with the value typed after it. `folded` is as long as `text`: keywords are
    found in it, and words and values are quoted back from `text` as the person typed them."""
    folded = fold(text)
    found: list[_Mention] = []
    position = 0
    while match := _KEYWORD.search(folded, position):
        word = text[match.start() : match.end()]
        kind = _KINDS[_squeezed(match.group(1))]
        after = _SEPARATOR.match(folded, match.end())
        start = after.end() if after else match.end()
        value = _VALUE.match(text, start)
        raw = value.group(0) if value else ""
        if raw and _KEYWORD.match(folded, start):
            raw = ""  # "master location 5": the next keyword is not master's value
            position = start
        else:
            position = value.end() if value else match.end()
        found.append(_Mention(word=word.strip(), kind=kind, raw=raw.rstrip(_TRAILING)))
    return found


def _looks_like_id(raw: str) -> bool:
    return raw[:1].isdigit()


def _meant(mentions: list[_Mention]) -> list[_Mention]:
    """The mentions given an id, if any were: "staff 17 location 5, new service menu" names
    one team member, and "service menu" is prose; without any id, each mention counts."""
    with_ids = [m for m in mentions if _looks_like_id(m.raw)]
    return with_ids or mentions


def _one_id(mentions: list[_Mention], kind: Kind) -> int:
    ids: list[int] = []
    for mention in mentions:
        if not mention.raw:
            raise CaptionError(partial(_needs_id, word=quote(mention.word)))
        value = mention.raw
        if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID_DIGITS:
            raise CaptionError(partial(_not_a_number, kind=kind, value=quote(value)))
        if int(value) == 0:
            raise CaptionError(partial(_starts_at_one, kind=kind, value=value))
        if int(value) not in ids:
            ids.append(int(value))
    if len(ids) > 1:
        raise CaptionError(partial(_several, kind=kind, ids=ids))
    return ids[0]


# One whole sentence per kind of record: languages inflect the noun, so it is never slotted in.
# The examples are captions in the reader's own words (a test parses each of them).


def _needs_id(t: Translator, word: str) -> str:
    return t._("`%(word)s` needs an id after it, like `%(word)s 17`.", word=word)


def _which_location(t: Translator, entity: Entity, entity_id: int) -> str:
    if entity == "master":
        return t._(
            "Which location is team member %(id)s in? Add `location <id>`, "
            "e.g. `master %(id)s location 4523464`.",
            id=entity_id,
        )
    return t._(
        "Which location is service %(id)s in? Add `location <id>`, "
        "e.g. `service %(id)s location 4523464`.",
        id=entity_id,
    )


def _not_a_number(t: Translator, kind: Kind, value: str) -> str:
    if kind == "master":
        return t._(
            "`%(value)s` is not a team member id: ids are whole numbers, like `17`.", value=value
        )
    if kind == "service":
        return t._(
            "`%(value)s` is not a service id: ids are whole numbers, like `17`.", value=value
        )
    return t._("`%(value)s` is not a location id: ids are whole numbers, like `17`.", value=value)


def _starts_at_one(t: Translator, kind: Kind, value: str) -> str:
    if kind == "master":
        return t._("`%(value)s` is not a team member id: ids start at 1.", value=value)
    if kind == "service":
        return t._("`%(value)s` is not a service id: ids start at 1.", value=value)
    return t._("`%(value)s` is not a location id: ids start at 1.", value=value)


def _several(t: Translator, kind: Kind, ids: list[int]) -> str:
    listed = ", ".join(str(i) for i in ids[:LISTED_IDS])
    if len(ids) > LISTED_IDS:  # a caption may name thousands
        extra = len(ids) - LISTED_IDS
        listed = t.ngettext("%(ids)s and %(n)s more", "%(ids)s and %(n)s more", extra, ids=listed)
    n = len(ids)
    if kind == "master":
        return t.ngettext(
            "The caption names %(n)s different team member ids (%(ids)s); name one.",
            "The caption names %(n)s different team member ids (%(ids)s); name one.",
            n,
            ids=listed,
        )
    if kind == "service":
        return t.ngettext(
            "The caption names %(n)s different service ids (%(ids)s); name one.",
            "The caption names %(n)s different service ids (%(ids)s); name one.",
            n,
            ids=listed,
        )
    return t.ngettext(
        "The caption names %(n)s different location ids (%(ids)s); name one.",
        "The caption names %(n)s different location ids (%(ids)s); name one.",
        n,
        ids=listed,
    )
