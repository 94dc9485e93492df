"""/license's cards: one per location, with days left and a warning inside the alert window."""

from __future__ import annotations

from datetime import date, timedelta

from api import License
from handlers.i18n import ENGLISH, translator
from handlers.license import messages

TODAY = date(2026, 3, 1)


def licence(location_id: int = 4523464, days_left: int = 12, **fields: object) -> License:
    return License.model_validate(
        {
            "id": 1,
            "salon_id": location_id,
            "name": "Business",
            "active": True,
            "start_date": "2025-03-01",
            "deactivation_date": (TODAY + timedelta(days=days_left)).isoformat(),
            "staff_limit": 0,
            **fields,
        }
    )


def shown(reply: messages.Message) -> str:
    return str(reply.blocks)


def test_a_card_shows_plan_dates_days_left_and_unlimited_staff() -> None:
    reply = messages.license_message([licence()], TODAY, (30, 7, 1), ENGLISH)
    text = shown(reply)
    assert "*Location 4523464* · Business · :large_green_circle: Active" in text
    assert "13 Mar 2026" in text and "Unlimited" in text
    assert ":warning: *12 days*" in text  # inside the largest alert threshold
    assert reply.text == "Location 4523464: Business, deactivates 13 Mar 2026"


def test_days_left_outside_the_alert_window_carry_no_warning() -> None:
    assert "*40 days*" not in shown(
        messages.license_message([licence(days_left=40)], TODAY, (30,), ENGLISH)
    )


def test_lapsing_today_and_expired_are_said_plainly() -> None:
    assert ":red_circle: *lapses today*" in shown(
        messages.license_message([licence(days_left=0)], TODAY, (30,), ENGLISH)
    )
    assert ":red_circle: *expired 1 day ago*" in shown(
        messages.license_message([licence(days_left=-1)], TODAY, (30,), ENGLISH)
    )


def test_several_locations_are_divided_and_a_failure_is_its_own_line() -> None:
    reply = messages.license_message(
        [licence(1), (2, "Altegio has no location 2.")], TODAY, (30, 7, 1), ENGLISH
    )
    assert {"type": "divider"} in reply.blocks
    assert ":x: Altegio has no location 2." in shown(reply)
    assert reply.text.endswith("Location 2: Altegio has no location 2.")


def test_plan_and_option_names_are_escaped() -> None:
    reply = messages.license_message(
        [licence(name="<b>", options=[{"id": 1, "title": "A&B"}])], TODAY, (30,), ENGLISH
    )
    assert "&lt;b&gt;" in shown(reply) and "A&amp;B" in shown(reply)


def test_a_word_that_is_not_an_id_is_quoted_without_backticks() -> None:
    text = messages.not_a_location_id("`rm`", ENGLISH)
    assert text.startswith("`'rm'` is not a location id")


def test_a_card_in_spanish_has_spanish_words_dates_and_numbers() -> None:
    reply = messages.license_message(
        [licence(days_left=12, staff_limit=1500)], TODAY, (30,), translator("es")
    )
    text = shown(reply)
    assert "*Sucursal 4523464* · Business · :large_green_circle: Activa" in text
    assert "13 mar 2026" in text and "1.500" in text and ":warning: *12 días*" in text
    assert reply.text == "Sucursal 4523464: Business, se desactiva el 13 mar 2026"


def test_days_left_in_russian_take_each_plural_form() -> None:
    ru = translator("ru")
    for left, words in (
        (1, "1 день"),
        (2, "2 дня"),
        (5, "5 дней"),
        (21, "21 день"),
        (12, "12 дней"),
    ):
        assert f"*{words}*" in shown(
            messages.license_message([licence(days_left=left)], TODAY, (30,), ru)
        )
    expired = shown(messages.license_message([licence(days_left=-3)], TODAY, (30,), ru))
    assert "истекла 3 дня назад" in expired


def test_ninety_options_name_the_first_twenty_and_count_the_rest() -> None:
    options = [{"id": i, "title": f"Option {i}"} for i in range(90)]
    context = messages.license_card(licence(options=options), TODAY, (30,), ENGLISH)[-1]
    line = context["elements"][0]["text"]
    assert line.startswith("Options: Option 0, Option 1,") and "Option 19 … +70 more" in line
    assert "Option 20" not in line
    ru = messages.license_card(licence(options=options[:22]), TODAY, (30,), translator("ru"))
    assert ru[-1]["elements"][0]["text"].endswith("Option 19 … и ещё 2")


def test_a_3000_character_plan_leaves_the_status_and_the_notification_short() -> None:
    reply = messages.license_message(
        [licence(name="<!here> " + "P&" * 1500, options=[{"id": 1, "title": "*x*" * 1000}])],
        TODAY,
        (30,),
        ENGLISH,
    )
    headline = reply.blocks[0]["text"]["text"]
    assert headline.endswith(" · :large_green_circle: Active") and len(headline) < 300
    assert "&lt;!here&gt;" in headline and "<!here>" not in reply.text
    assert len(reply.text) < 300 and reply.text.endswith(", deactivates 13 Mar 2026")
    assert len(reply.blocks[-1]["elements"][0]["text"]) < 200
