"""The catalogues stay whole: every sentence of the code translated in every shipped language,
with the same placeholders, emoji and commands, and no catalogue behind the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from handlers.i18n import LANGUAGES, LOCALES_DIR, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
EMOJI = re.compile(r":[a-z0-9_+-]+:")
COMMAND = re.compile(r"`(/[a-z]+)")
SLACK_TOKEN = re.compile(r"\{\w+\}")  # {date_short_pretty} in Slack's <!date^…> format


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def msgids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


def forms(value: object) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [str(value or "")]


def test_the_bot_speaks_spanish_portuguese_and_russian() -> None:
    assert {"en", "es", "pt", "ru"} <= set(LANGUAGES)


def test_the_template_matches_the_code(tmp_path: Path) -> None:
    """A sentence added or changed in the code is in messages.pot (README, "Languages")."""
    fresh = tmp_path / "messages.pot"
    config = str(ROOT / "babel.cfg")
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", config, "--no-location", "-o", str(fresh), str(ROOT)]
    )
    in_code = msgids(read(fresh))
    shipped = msgids(read(LOCALES_DIR / "messages.pot"))
    assert sorted(map(str, in_code - shipped)) == [], "run the extract and update commands"
    assert sorted(map(str, shipped - in_code)) == [], "run the extract and update commands"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_is_translated(language: str) -> None:
    template = msgids(read(LOCALES_DIR / "messages.pot"))
    catalog = read(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po", language)
    assert sorted(map(str, template - msgids(catalog))) == [], "run pybabel update"
    assert sorted(map(str, msgids(catalog) - template)) == [], "run pybabel update"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"{language}: fuzzy: {message.id!r}"
        strings = forms(message.string)
        assert all(s.strip() for s in strings), f"{language}: untranslated: {message.id!r}"
        if message.pluralizable:
            assert len(strings) == catalog.num_plurals, f"{language}: plural forms: {message.id!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_are_the_languages_own(language: str) -> None:
    """Russian has three forms (1 день, 2 дня, 5 дней): the header must say so."""
    catalog = read(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po", language)
    assert catalog.num_plurals == Catalog(locale=Locale.parse(language)).num_plurals
    assert catalog.plural_expr == Catalog(locale=Locale.parse(language)).plural_expr


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders_emoji_and_commands(language: str) -> None:
    catalog = read(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po", language)
    for message in catalog:
        if not message.id:
            continue
        sources = forms(message.id)
        for string in forms(message.string):
            for pattern in (PLACEHOLDER, EMOJI, COMMAND, SLACK_TOKEN):
                # Every form of a plural has the placeholders of the plural source (`%(n)s`).
                assert set(pattern.findall(string)) == set(pattern.findall(sources[-1])), (
                    f"{language}: {pattern.pattern} differ in {message.id!r}: {string!r}"
                )
