"""What a person reads when Altegio's request budget is taken, and which lane a request uses."""

from __future__ import annotations

from api import Busy, TooManyAttempts
from bot.app import _lane_of
from handlers.account.messages import LOGIN_CALLBACK
from handlers.errors import describe
from handlers.i18n import translator


def test_busy_says_when_to_try_again():
    assert describe(Busy("taken", retry_after=12)) == (
        "Altegio is busy, try again in about 12 seconds."
    )
    assert describe(Busy("taken", retry_after=600)) == (
        "Altegio is busy, try again in about 10 minutes."
    )


def test_busy_is_said_in_the_readers_language_with_its_plurals():
    busy = Busy("taken", retry_after=300)
    assert describe(busy, translator("es")) == (
        "Altegio está ocupado; inténtalo de nuevo en unos 5 minutos."
    )
    assert describe(busy, translator("ru")) == (
        "Altegio занят, попробуйте ещё раз примерно через 5 минут."
    )
    assert "через 2 минуты" in describe(Busy("taken", retry_after=120), translator("ru"))
    assert "через 21 секунду" in describe(Busy("taken", retry_after=21), translator("ru"))


def test_too_many_logins_says_when_the_next_one_is_allowed():
    text = describe(TooManyAttempts("too many", retry_after=240))
    assert "too many login attempts" in text and "about 4 minutes" in text


def test_requests_are_put_in_the_lane_their_person_waits_in():
    login = {"type": "view_submission", "view": {"callback_id": LOGIN_CALLBACK}}
    other_form = {"type": "view_submission", "view": {"callback_id": "something_else"}}
    photo = {"type": "event_callback", "event": {"type": "message", "files": [{"id": "F1"}]}}
    chat = {"type": "event_callback", "event": {"type": "message", "text": "hi"}}
    command = {"command": "/license", "text": "1"}
    assert _lane_of(login) == "login"
    assert _lane_of(photo) == "upload"
    assert [_lane_of(b) for b in (other_form, chat, command)] == ["interactive"] * 3
