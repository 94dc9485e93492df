"""/phone's reading of what people type, before Altegio is asked about it."""

from __future__ import annotations

import pytest

from handlers.phone import messages
from handlers.phone.parsing import NotAPhoneNumber, parse_phone


@pytest.mark.parametrize(
    "typed",
    [
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "44 (20) 7946-0958",
        "<tel:+442079460958|+44 20 7946 0958>",
        "  +44.20.7946.0958  ",
    ],
)
def test_the_ways_people_type_one_number_all_read_the_same(typed: str) -> None:
    phone = parse_phone(typed)
    assert phone.e164 == "+442079460958"
    assert (phone.country, phone.region) == ("United Kingdom", "GB")
    assert phone.line_type == "landline"


def test_a_mobile_number_says_so() -> None:
    assert parse_phone("+7 912 345 67 89").line_type == "mobile"


@pytest.mark.parametrize("typed", ["", "call me", "+12", "+44 20 7946 0958 ext 5", "9" * 41])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(NotAPhoneNumber):
        parse_phone(typed)


def test_the_refusal_quotes_the_text_safely_and_shows_usage() -> None:
    text = messages.not_a_number("`<!channel>` hello")
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert text.count("`") == 2 + messages.USAGE.count("`")
    assert messages.USAGE in text


def test_the_card_gives_altegio_s_verdict_and_the_number() -> None:
    phone = parse_phone("+44 20 7946 0958")
    reply = messages.phone_message(phone, accepted=False)
    assert reply.text == "+442079460958: Altegio does not accept this number."
    shown = str(reply.blocks)
    assert "does not accept" in shown and "United Kingdom (GB)" in shown
