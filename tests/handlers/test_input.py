"""The words several commands read the same way."""

from __future__ import annotations

import pytest

from handlers import input


@pytest.mark.parametrize("text", ["", "  ", "help", "HELP me", "-h", "--help", "?"])
def test_help_is_asked_for(text: str) -> None:
    assert input.asks_for_help(text)


@pytest.mark.parametrize("text", ["4523464", "watch 1", "helpful"])
def test_other_words_are_not_help(text: str) -> None:
    assert not input.asks_for_help(text)


@pytest.mark.parametrize(("word", "expected"), [("4523464", 4523464), ("17,", 17), ("5;", 5)])
def test_location_ids(word: str, expected: int) -> None:
    assert input.location_id(word) == expected


@pytest.mark.parametrize("word", ["0", "-3", "12a", "١٢", "1" * 13, ""])
def test_what_is_not_a_location_id(word: str) -> None:
    assert input.location_id(word) is None


def test_quote_drops_backticks_and_keeps_it_short() -> None:
    assert input.quote("`" + "x" * 60) == "'" + "x" * 38 + "…"


def test_quote_escapes_what_it_quotes() -> None:
    assert input.quote("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_slack_text_is_decoded_once() -> None:
    # Typed "<b> &lt;" arrives as "&lt;b&gt; &amp;lt;"; a markup-looking "<!here>" stays as is.
    assert input.from_slack("&lt;b&gt; &amp;lt; <!here>") == "<b> &lt; <!here>"
