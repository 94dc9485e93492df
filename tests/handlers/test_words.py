"""The vocabulary people may type in: how words are compared, and that README lists it."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers import words
from handlers.input import _key

README = Path(__file__).resolve().parents[2] / "README.md"
VOCABULARIES = {
    "watch": words.WATCH_WORDS,
    "account": words.ACCOUNT_WORDS,
    "help": words.HELP_WORDS,
    "caption": words.CAPTION_WORDS,
}


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Ubicación", "ubicacion"),
        ("SERVIÇO", "servico"),
        ("Funcionária", "funcionaria"),
        ("ЕЩЁ Филиал", "еще филиал"),
        ("Ubicacio\u0301n", "ubicacion"),  # an accent typed as its own character
        ("Straße №17", "straße №17"),  # no character becomes two
        ("１７", "１７"),  # full-width digits stay what they are
    ],
)
def test_fold_drops_case_and_accents(typed: str, folded: str) -> None:
    assert words.fold(typed) == folded


def test_fold_keeps_positions() -> None:
    text = "Фото мастера №17 в филиале — ubicación ÉLITE ß İ ǅ"
    assert len(words.fold(text)) == len(text)


@pytest.mark.parametrize("name", VOCABULARIES)
def test_no_word_means_two_things(name: str) -> None:
    meaning_of: dict[str, str] = {}
    for meaning, languages in VOCABULARIES[name].items():
        for language, typed in languages.items():
            assert language in words.LANGUAGES
            for word in typed:
                key = " ".join(_key(w) for w in word.split())
                assert meaning_of.setdefault(key, meaning) == meaning, word


@pytest.mark.parametrize("name", VOCABULARIES)
def test_every_language_has_words_for_every_meaning(name: str) -> None:
    for meaning, languages in VOCABULARIES[name].items():
        assert set(languages) == set(words.LANGUAGES), meaning


def test_readme_lists_every_word() -> None:
    readme = README.read_text(encoding="utf-8")
    table = readme.split("## Words in Spanish, Portuguese and Russian", 1)[1].split("\n## ", 1)[0]
    listed = [
        word
        for vocabulary in VOCABULARIES.values()
        for languages in vocabulary.values()
        for typed in languages.values()
        for word in typed
    ]
    listed += [word for typed in words.CAPTION_ID_WORDS.values() for word in typed]
    missing = [word for word in listed if f"`{word}`" not in table]
    assert not missing, f"README's vocabulary table lacks {missing}"
