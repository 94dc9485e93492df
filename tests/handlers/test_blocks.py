"""The shared pieces every builder uses: escaping user text, clipping and capping."""

from __future__ import annotations

from handlers import blocks
from handlers.i18n import translator

JOINER = "\u2060"


def shown(mrkdwn: str) -> str:
    """Roughly what Slack shows for a piece of escaped text: entities decoded, joiners unseen."""
    return (
        mrkdwn.replace(JOINER, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def test_markup_in_user_text_shows_as_typed() -> None:
    typed = "<!channel> <@U123> <#C1|x> <https://evil|click> *b* _i_ ~s~ `c` &lt; > q"
    escaped = blocks.escape(typed)
    assert "<" not in escaped and ">" not in escaped
    assert shown(escaped) == typed


def test_formatting_characters_never_touch_a_word() -> None:
    escaped = blocks.escape("*bold* _it_ ~x~ `code`")
    for mark in "*_~`":
        for i, char in enumerate(escaped):
            if char == mark:
                assert escaped[i - 1] == JOINER and escaped[i + 1] == JOINER


def test_a_line_of_user_text_never_opens_a_quote() -> None:
    assert not blocks.escape("> quoted\n> again").startswith("&gt;")
    assert "\n&gt;" not in blocks.escape("a\n> b")


def test_clip_keeps_short_text_and_marks_a_cut() -> None:
    assert blocks.clip("short", 10) == "short"
    assert blocks.clip("x" * 20, 10) == "x" * 9 + "…"


def test_clip_never_splits_an_entity_or_markup() -> None:
    assert blocks.clip("abcdefg &amp; tail", 11) == "abcdefg …"
    assert blocks.clip("see <#C0123456> now", 10) == "see …"


def test_cap_says_how_many_blocks_were_left_out() -> None:
    many = [blocks.section(str(i)) for i in range(70)]
    capped = blocks.cap(many)
    assert len(capped) == blocks.MESSAGE_BLOCKS
    assert capped[-1]["elements"][0]["text"] == "…and 21 more not shown."


def test_pieces_clip_their_text() -> None:
    assert len(blocks.section("x" * 5000)["text"]["text"]) == blocks.SECTION_TEXT
    assert len(blocks.button("y" * 100, "a")["text"]["text"]) == blocks.BUTTON_TEXT
    assert len(blocks.header("z" * 200)["text"]["text"]) == blocks.HEADER_TEXT
    assert len(blocks.context(*["c"] * 15)["elements"]) == blocks.CONTEXT_ELEMENTS
    assert len(blocks.fields([("a", "b")] * 12)["fields"]) == blocks.FIELDS


def test_notes_for_what_did_not_fit_are_in_the_readers_language() -> None:
    ru, es = translator("ru"), translator("es")
    capped = blocks.cap([blocks.section(str(i)) for i in range(60)], blocks.MESSAGE_BLOCKS, ru)
    assert capped[-1]["elements"][0]["text"] == "…и ещё 11 не показано."
    many = blocks.context(*["c"] * 15, t=es)["elements"]
    assert many[-1]["text"] == "…y 6 más"
    reply = blocks.message("x", [blocks.divider()] * 51, es)
    assert reply.blocks[-1]["elements"][0]["text"] == "…y 2 más que no se muestran."


def test_escape_can_clip_what_slack_counts() -> None:
    escaped = blocks.escape("&" * 100, 12)
    assert escaped == "&amp;&amp;…" and len(escaped) <= 12
    assert blocks.escape("<!here>", 100) == "&lt;!here&gt;"


def test_a_clipped_formatting_mark_never_touches_the_ellipsis() -> None:
    escaped = blocks.escape("ab*cd")  # ab, joiner, *, joiner, cd
    for limit in range(2, len(escaped)):
        clipped = blocks.clip(escaped, limit)
        assert not any(f"{JOINER}{mark}…" in clipped for mark in "*_~`"), clipped
