"""The caption grammar: which Altegio record a shared photo is for. A pure function.

A caption is for the bot when it names an entity (`master`, `team_member`, `team member`,
`staff` or `service`) and either gives it an id-like value or names a location too. Words are
case-insensitive and may come in any order, with or without Slack formatting:

    master 17 location 4523464        service #9 company 4523464
    Location: 4523464, staff id 17    *team_member 17* location_id 4523464

A keyword may carry an `_id` suffix (`master_id`, `location_id`); its value may follow a `:`,
`=`, `#` or the word `id`. Ids are whole numbers from 1 up.

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
from dataclasses import dataclass
from typing import Literal

from handlers.input import quote

Entity = Literal["master", "service"]

ENTITY_WORDS: dict[str, Entity] = {
    "master": "master",
    "teammember": "master",
    "staff": "master",
    "service": "service",
}
LOCATION_WORDS = frozenset({"location", "company"})
MAX_ID_DIGITS = 12
LISTED_IDS = 5  # ids named back in a complaint about too many

# A keyword as a whole word; `_` may precede it (Slack's italics) but letters and digits not.
_KEYWORD = re.compile(
    r"(?<![a-z0-9])(team[ _-]?member|master|staff|service|location|company)"
    r"(?:[ _-]?id)?(?![a-z])",
    re.IGNORECASE,
)
# What may stand between a keyword and its value: `: 17`, `= 17`, `#17`, `id 17`, `№ 17`.
_SEPARATOR = re.compile(r"[\s:=#№]*(?:id(?![a-z])[\s:=#№]*)?", re.IGNORECASE)
_VALUE = re.compile(r"[^\s,;]+")
_TRAILING = ".,;:!?)]}*_~`'\""
_SLACK_MARKUP = re.compile(r"<[^<>]*>")  # mentions, channel links, URLs
_FORMATTING = re.compile(r"[*~`]")


class CaptionError(ValueError):
    """The caption is meant for the bot but cannot be acted on; str() says how to fix it."""


@dataclass(frozen=True)
class Target:
    entity: Entity  # Altegio's name: "master" is a team member
    entity_id: int
    location_id: int

    @property
    def label(self) -> str:
        """How people name it: "team member 17", "service 9"."""
        return f"{entity_label(self.entity)} {self.entity_id}"


def entity_label(entity: Entity) -> str:
    return "team member" if entity == "master" else "service"


@dataclass(frozen=True)
class _Mention:
    word: str  # the keyword as typed, for messages
    kind: Entity | Literal["location"]
    raw: str  # the value as typed ("" when none followed)


def parse_caption(text: str) -> Target | None:
    """The photo's target from its caption; None if the caption is not for the bot."""
    mentions = _mentions(_plain(text))
    entities = _meant([m for m in mentions if m.kind != "location"])
    locations = _meant([m for m in mentions if m.kind == "location"])
    if not entities:
        return None
    if not locations and not any(_looks_like_id(m.raw) for m in entities):
        return None

    kinds = {m.kind for m in entities}
    if len(kinds) > 1:
        raise CaptionError(
            "Name either a team member or a service, not both: one photo goes to one of them."
        )
    entity: Entity = entities[0].kind  # type: ignore[assignment]
    entity_id = _one_id(entities, entity_label(entity))
    if not locations:
        raise CaptionError(
            f"Which location is {entity_label(entity)} {entity_id} in? "
            f"Add `location <id>`, e.g. `{_example(entity, entity_id)}`."
        )
    location_id = _one_id(locations, "location")
    return Target(entity=entity, entity_id=entity_id, location_id=location_id)


def _plain(text: str) -> str:
    text = _SLACK_MARKUP.sub(" ", text or "")
    return _FORMATTING.sub(" ", html.unescape(text))


def _mentions(text: str) -> list[_Mention]:
    found: list[_Mention] = []
    position = 0
    while match := _KEYWORD.search(text, position):
        word = match.group(0)
        key = re.sub(r"[ _-]", "", match.group(1).lower())
        kind: Entity | Literal["location"] = (
            "location" if key in LOCATION_WORDS else ENTITY_WORDS[key]
        )
        after = _SEPARATOR.match(text, match.end())
        start = after.end() if after else match.end()
        value = _VALUE.match(text, start)
        raw = value.group(0) if value else ""
        if raw and _KEYWORD.match(raw):
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


def _one_id(mentions: list[_Mention], what: str) -> int:
    ids: list[int] = []
    for mention in mentions:
        if not mention.raw:
            raise CaptionError(
                f"`{quote(mention.word)}` needs an id after it, like `{quote(mention.word)} 17`."
            )
        value = mention.raw
        if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID_DIGITS:
            raise CaptionError(
                f"`{quote(value)}` is not a {what} id: ids are whole numbers, like `17`."
            )
        if int(value) == 0:
            raise CaptionError(f"`{value}` is not a {what} id: ids start at 1.")
        if int(value) not in ids:
            ids.append(int(value))
    if len(ids) > 1:
        listed = ", ".join(map(str, ids[:LISTED_IDS]))
        if len(ids) > LISTED_IDS:  # a caption may name thousands
            listed += f" and {len(ids) - LISTED_IDS} more"
        raise CaptionError(
            f"The caption names {len(ids)} different {what} ids ({listed}); name one."
        )
    return ids[0]


def _example(entity: Entity, entity_id: int) -> str:
    return f"{entity} {entity_id} location 4523464"
