"""Which language a Slack locale gets, and what Babel writes for dates, numbers and countries."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.i18n import check_language, locale_for, translator


@pytest.mark.parametrize(
    ("slack", "language"),
    [("es-ES", "es"), ("es-LA", "es"), ("pt-BR", "pt"), ("ru-RU", "ru"), ("en-US", "en")],
)
def test_slack_locales_map_to_the_bots_languages(slack: str, language: str) -> None:
    assert locale_for(slack, "en") == language
    assert translator(slack).locale == language


@pytest.mark.parametrize("slack", ["fr-FR", "de-DE", "", None, "zz"])
def test_anything_else_gets_the_default(slack: str | None) -> None:
    assert locale_for(slack, "ru") == "ru"


def test_dates_numbers_and_countries_by_language() -> None:
    day = date(2026, 12, 9)
    assert translator("es").format_date(day) == "9 dic 2026"
    assert translator("ru").format_date(day) == "9 дек. 2026\u202fг."
    assert translator("en").format_date(day) == "9 Dec 2026"
    assert translator("en").format_date(None) == "—"
    assert translator("en").format_number(1500) == "1,500"
    assert translator("ru").country("GB") == "Великобритания"
    assert translator("es").country("DE") == "Alemania"


def test_default_locale_accepts_the_languages_and_slack_spellings_only() -> None:
    assert check_language("ES") == "es" and check_language("pt-BR") == "pt"
    with pytest.raises(ValueError, match="en, es, pt, ru"):
        check_language("fr")
