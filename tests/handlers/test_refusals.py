"""What counts as Slack refusing a payload for its blocks, and the plain text sent instead."""

from __future__ import annotations

from handlers import blocks
from handlers.i18n import translator
from handlers.refusals import home_not_shown, plain_message, refusal
from tests.fakes.block_limits import message_problems, view_problems

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "a card"}}


def test_block_refusals_count_only_for_a_payload_with_blocks_or_too_long() -> None:
    assert refusal("invalid_blocks", {"text": "x", "blocks": [SECTION]})
    assert refusal("msg_too_long", {"text": "x" * 50_000})
    assert not refusal("invalid_blocks", {"text": "x"})  # nothing to leave out
    assert not refusal("channel_not_found", {"text": "x", "blocks": [SECTION]})
    assert not refusal(None, {"text": "x", "blocks": [SECTION]})


def test_invalid_arguments_counts_when_it_points_at_blocks_or_says_nothing() -> None:
    payload = {"text": "x", "blocks": [SECTION]}
    pointer = "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    assert refusal("invalid_arguments", payload, {"response_metadata": {"messages": [pointer]}})
    assert refusal("invalid_arguments", {"view": {}}, {"errors": ["view.title: too long"]})
    assert refusal("invalid_arguments", payload, {"ok": False})
    other = "[ERROR] missing required field: channel"
    assert not refusal("invalid_arguments", payload, {"response_metadata": {"messages": [other]}})


def test_the_plain_message_keeps_every_field_but_the_blocks_and_clips_the_text() -> None:
    message = {
        "text": "y" * 50_000,
        "blocks": [SECTION] * 80,
        "attachments": [{"text": "a"}],
        "channel": "C1",
        "thread_ts": "1.2",
        "response_type": "ephemeral",
    }
    plain = plain_message(message)
    assert plain.keys() == {"text", "channel", "thread_ts", "response_type"}
    assert len(plain["text"]) == blocks.TEXT and plain["text"].endswith(blocks.ELLIPSIS)
    assert message_problems(plain) == []


def test_a_message_without_text_says_what_its_sections_said() -> None:
    other = {"type": "section", "text": {"type": "mrkdwn", "text": "second"}}
    assert plain_message({"blocks": [SECTION, {"type": "divider"}, other]})["text"] == (
        "a card\nsecond"
    )


def test_the_fallback_home_tab_keeps_slacks_limits_in_every_language() -> None:
    for language in ("en", "es", "pt", "ru"):
        view = home_not_shown(translator(language))
        assert view_problems(view) == [] and len(view["blocks"]) == 1
