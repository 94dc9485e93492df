"""Whatever a photo's caption says, the parser answers one of three ways and nothing else:
not for the bot (None), a target with positive ids, or one plain sentence saying what to fix."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.images.caption import MAX_ID_DIGITS, CaptionError, Target, parse_caption

WORDS = [
    "master",
    "Master",
    "MASTER_ID",
    "team_member",
    "team member",
    "team-member",
    "staff",
    "service",
    "service_id",
    "location",
    "location_id",
    "company",
    "Location:",
    "id",
    "#",
    ":",
    "=",
    "№",
    "17",
    "0",
    "-3",
    "007",
    "4523464",
    "9" * 13,
    "1e3",
    "١٧",
    "１７",
    "seventeen",
    "*master 17*",
    "_staff_",
    "~service~",
    "`location 5`",
    "<@U123>",
    "<#C1|team>",
    "<https://x.example|master 9>",
    "&amp;",
    "&lt;master&gt;",
    ",",
    ";",
    "!",
    "(17)",
    "\n",
    "photo",
    "new",
    "menu",
    "party",
    "tonight",
    "masterclass",
    "servicemaster",
    "relocation",
]
captions = st.one_of(
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=12).map(" ".join),
    st.text(max_size=200),
)


@settings(max_examples=200, deadline=None)
@given(text=captions)
def test_any_caption_is_none_a_valid_target_or_one_plain_sentence(text: str) -> None:
    try:
        target = parse_caption(text)
    except CaptionError as problem:
        sentence = str(problem)
        assert sentence.strip() and len(sentence) < 400
        assert "Traceback" not in sentence and "Error" not in sentence
        return
    if target is None:
        return
    assert isinstance(target, Target)
    assert target.entity in ("master", "service")
    for value in (target.entity_id, target.location_id):
        assert isinstance(value, int) and 0 < value < 10**MAX_ID_DIGITS


@settings(max_examples=100, deadline=None)
@given(
    entity=st.sampled_from(["master", "staff", "team_member", "service"]),
    entity_id=st.integers(min_value=1, max_value=10**9),
    location_id=st.integers(min_value=1, max_value=10**9),
    filler=st.lists(st.sampled_from(["new photo", "hi!", "*", "_", ",", "please"]), max_size=3),
    location_first=st.booleans(),
)
def test_a_complete_caption_is_read_in_either_order_with_any_filler(
    entity: str,
    entity_id: int,
    location_id: int,
    filler: list[str],
    location_first: bool,
) -> None:
    parts = [f"{entity} {entity_id}", f"location {location_id}"]
    if location_first:
        parts.reverse()
    text = " ".join([*filler[:1], parts[0], *filler[1:2], parts[1], *filler[2:]])
    target = parse_caption(text)
    assert target == Target(
        "service" if entity == "service" else "master", entity_id, location_id
    ), text
