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


# -- the same words in Spanish, Portuguese and Russian --------------------------------------------


@pytest.mark.parametrize(
    "text", ["ayuda", "AYUDA", "Ajuda por favor", "помощь", "Справка", "¿ayuda?", "help!"]
)
def test_help_in_every_language(text: str) -> None:
    assert input.asks_for_help(text)


@pytest.mark.parametrize(("text", "expected"), [("ayuda", True), ("помощь", True), ("", True)])
def test_the_whole_text_as_help(text: str, expected: bool) -> None:
    assert input.is_help(text) is expected


@pytest.mark.parametrize("text", ["+34 600 000 000", "ayuda 600", "ayudante"])
def test_a_text_that_is_more_than_help(text: str) -> None:
    assert not input.is_help(text)


@pytest.mark.parametrize(
    ("text", "meaning", "rest"),
    [
        ("watch 4523464", "watch", ["4523464"]),
        ("WATCH 4523464", "watch", ["4523464"]),
        ("vigilar 4523464", "watch", ["4523464"]),
        ("Vigilar 4523464", "watch", ["4523464"]),
        ("monitorar 4523464", "watch", ["4523464"]),
        ("следить 4523464", "watch", ["4523464"]),
        ("СЛЕДИТЬ 4523464", "watch", ["4523464"]),
        ("unwatch 4523464", "unwatch", ["4523464"]),
        ("dejar 4523464", "unwatch", ["4523464"]),
        ("dejar de vigilar 4523464", "unwatch", ["4523464"]),
        ("Dejar De Vigilar 4523464", "unwatch", ["4523464"]),
        ("parar de monitorar 4523464", "unwatch", ["4523464"]),
        ("не следить 4523464", "unwatch", ["4523464"]),
        ("перестать следить 4523464", "unwatch", ["4523464"]),
        ("watching", "watching", []),
        ("vigilando", "watching", []),
        ("monitorando", "watching", []),
        ("список", "watching", []),
    ],
)
def test_watch_subcommands_in_every_language(text: str, meaning: str, rest: list[str]) -> None:
    assert input.WATCH.match(text.split()) == (meaning, rest)


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("login", "login"),
        ("iniciar sesión", "login"),
        ("INICIAR SESION", "login"),
        ("entrar", "login"),
        ("войти", "login"),
        ("logout", "logout"),
        ("cerrar sesión", "logout"),
        ("salir", "logout"),
        ("sair", "logout"),
        ("Выйти", "logout"),
        ("whoami", "whoami"),
        ("quién soy", "whoami"),
        ("¿Quien soy?", "whoami"),
        ("quem sou eu", "whoami"),
        ("кто я", "whoami"),
        ("Кто я?", "whoami"),
    ],
)
def test_account_subcommands_in_every_language(text: str, meaning: str) -> None:
    assert input.ACCOUNT.match(text.split()) == (meaning, [])


@pytest.mark.parametrize("text", ["4523464", "vigilante 1", "dejarlo", "de vigilar 1", "кто"])
def test_other_words_are_no_subcommand(text: str) -> None:
    words = text.split()
    assert input.WATCH.match(words) == (None, words)
    assert input.ACCOUNT.match(words) == (None, words)
