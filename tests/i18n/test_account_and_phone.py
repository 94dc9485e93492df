"""/altegio, the login form and /phone in every language the bot speaks: within Slack's
limits, with Babel's country names and no English left over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api import InvalidCredentials
from handlers.account import messages as account
from handlers.account.login import form_language, login_metadata
from handlers.i18n import LANGUAGES, translator
from handlers.phone import messages as phone
from handlers.phone.parsing import parse_phone
from handlers.store import LinkedAccount
from tests.fakes.block_limits import VIEW_TITLE, message_problems, view_problems

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
ACCOUNT = LinkedAccount(
    "T1", "U1", 42, "Maria Manager", "manager@example.com", NOW - timedelta(days=3), "usr-x"
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_login_form_fits_slack_in_every_language(language: str) -> None:
    t = translator(language)
    for text in (t._("Altegio login"), t._("Log in"), t._("Cancel")):
        assert len(text) <= VIEW_TITLE, f"{language}: {text!r} is longer than a modal allows"
    view = account.login_modal(login_metadata("https://hooks.slack.com/x"), ACCOUNT, t)
    assert view_problems(view) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_account_replies_fit_slack_in_every_language(language: str) -> None:
    t = translator(language)
    for blocks in (
        account.whoami(ACCOUNT, t=t),
        account.whoami(None, service_account=True, t=t),
    ):
        assert message_problems({"text": "x", "blocks": blocks}) == []
    for text in (
        account.usage(t),
        account.linked(ACCOUNT, t),
        account.logged_out(ACCOUNT, t),
        account.unknown_subcommand("x" * 100, t),
        phone.not_a_number("x" * 100, t),
    ):
        assert message_problems({"text": text}) == []


def test_account_replies_in_spanish_and_russian() -> None:
    es, ru = translator("es"), translator("ru")
    assert "Estás vinculado a Altegio como *Maria Manager*" in str(account.whoami(ACCOUNT, t=es))
    assert "{date_short_pretty} a las {time}|6 dic 2026 12:00 UTC" in str(
        account.whoami(ACCOUNT, t=es)
    )
    assert account.logged_out(None, ru).startswith("Готово: я забыл вашу сессию Altegio.")
    assert "У `/altegio` нет команды `foo`" in account.unknown_subcommand("foo", ru)
    assert account.login_refusal(InvalidCredentials("no"), ru) == {
        "password": "Altegio не принял этот логин и пароль. Проверьте их и попробуйте ещё раз."
    }
    button = account.whoami(ACCOUNT, t=ru)[1]["elements"][0]
    assert button["text"]["text"] == "Выйти" and button["confirm"]["deny"]["text"] == "Отмена"


def test_the_form_remembers_its_language_for_the_submission() -> None:
    assert form_language(login_metadata(None, language="ru")).locale == "ru"
    assert form_language(login_metadata("https://x", language="es")).locale == "es"
    assert form_language("{}").locale == "en"
    assert form_language("not json").locale == "en"
    assert form_language('{"language": "xx"}').locale == "en"


@pytest.mark.parametrize(
    ("language", "country", "line", "verdict"),
    [
        ("en", "United Kingdom (GB)", "landline", "Altegio accepts this number"),
        ("es", "Reino Unido (GB)", "fijo", "Altegio acepta este número"),
        ("pt", "Reino Unido (GB)", "fixo", "O Altegio aceita este número"),
        ("ru", "Великобритания (GB)", "стационарный", "Altegio принимает этот номер"),
    ],
)
def test_the_phone_card_in_the_readers_language(
    language: str, country: str, line: str, verdict: str
) -> None:
    reply = phone.phone_message(parse_phone("+44 20 7946 0958"), True, translator(language))
    shown = str(reply.blocks)
    assert country in shown and line in shown and verdict in shown and "+442079460958" in shown
    assert message_problems({"text": reply.text, "blocks": reply.blocks}) == []


def test_a_non_geographic_number_in_russian() -> None:
    card = phone.phone_card(parse_phone("+800 1234 5678"), False, translator("ru"))
    assert "негеографический" in str(card) and "Altegio не принимает этот номер" in str(card)
