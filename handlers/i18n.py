"""Every sentence a person reads, in their language: gettext catalogues read with Babel.

English is the source language: the sentences in the code are the English text, and each other
language is one catalogue, `handlers/locales/<lang>/LC_MESSAGES/messages.po`. The `.po` files are
read at start (no compile step, so no stale `.mo`); a directory with a catalogue is a language,
so adding one is `pybabel init` plus the translation (README, "Languages").

A builder takes a `Translator` (`t`) and writes

    t._("Altegio has no location %(id)s.", id=location_id)
    t.ngettext("%(n)s day left", "%(n)s days left", left)
    t.format_date(licence.deactivation_date)

Placeholders are named, never positional, so a translation may put them in any order; a whole
sentence is one message, never glued together from translated pieces.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date as _format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

SOURCE_LANGUAGE = "en"
# Whose conventions a language's dates and numbers follow: English as the bot always wrote it
# (`13 Mar 2026`), Portuguese as in Brazil.
FORMATS = {"en": "en_GB", "pt": "pt_BR"}
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


def _catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _shipped() -> tuple[str, ...]:
    found = sorted(
        p.name for p in LOCALES_DIR.iterdir() if p.is_dir() and _catalogue_path(p.name).is_file()
    )
    return (SOURCE_LANGUAGE, *(lang for lang in found if lang != SOURCE_LANGUAGE))


# The languages the bot speaks: English and every language with a catalogue.
LANGUAGES: tuple[str, ...] = _shipped()


def supported(tag: str | None) -> str | None:
    """The bot's language for a Slack locale (`es-LA`, `pt-BR`, `ru-RU`, `en-US`) or a language
    code (`es`), or None when the bot does not speak it."""
    if not isinstance(tag, str) or not tag.strip():
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


def locale_for(tag: str | None, default: str) -> str:
    """The language to answer in: the person's, when the bot speaks it, else `default`."""
    return supported(tag) or default


class Translator:
    """One language's sentences, dates, numbers, plurals and country names."""

    def __init__(self, locale: str, translations: NullTranslations) -> None:
        self.locale = locale
        self._translations = translations
        self._babel = Locale.parse(FORMATS.get(locale, locale))

    def _(self, message: str, **values: Any) -> str:
        """The translation of `message`, its `%(name)s` placeholders filled from `values`."""
        text = self._translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The form of the sentence for `n` (Russian has three); `%(n)s` is `n`, formatted."""
        text = self._translations.ngettext(singular, plural, n)
        return text % {"n": self.format_number(n), **values}

    def format_date(self, value: date | datetime | None, format: str = "medium") -> str:
        """`9 dic 2026`, `9 дек. 2026 г.`, `9 Dec 2026`; a dash for no date."""
        if value is None:
            return "—"
        return _format_date(value, format=format, locale=self._babel)

    def format_number(self, value: int | float) -> str:
        """`1,500` in English, `1500` in Spanish, `1 500` in Russian."""
        return format_decimal(value, locale=self._babel)

    def country(self, code: str) -> str | None:
        """A country's name from its ISO 3166 code (`GB`), or None when Babel has none."""
        return self._babel.territories.get(code.upper()) if code else None

    def join(self, items: list[str]) -> str:
        """`a, b and c` in this language."""
        from babel.lists import format_list

        return format_list(items, locale=self._babel) if items else ""

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"


def N_(message: str) -> str:  # gettext's own name for it, which extraction looks for
    """Marks a sentence kept in a constant for extraction; `t._(CONSTANT)` translates it."""
    return message


def _load(language: str) -> NullTranslations:
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    with _catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    # Fuzzy entries are guesses from `pybabel update`: English beats a wrong sentence.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.cache
def translator(locale: str | None) -> Translator:
    """The translator for one of LANGUAGES (a Slack locale works too); English otherwise."""
    language = supported(locale) or SOURCE_LANGUAGE
    if language != locale:
        return translator(language)
    return Translator(language, _load(language))


def check_language(value: str) -> str:
    """A setting's language (DEFAULT_LOCALE: `es`, or `es-ES` as Slack writes it), normalised to
    one of LANGUAGES; ValueError naming the choices."""
    language = supported(value)
    if language is None:
        raise ValueError(f"expected one of {', '.join(LANGUAGES)}")
    return language


# English, for what is read by nobody in particular (tests, the console's own output).
ENGLISH = translator(SOURCE_LANGUAGE)
