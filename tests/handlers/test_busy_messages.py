"""What a person reads when Altegio's request budget is taken, and which lane a request uses."""

from __future__ import annotations

from api import Busy, TooManyAttempts
from bot.app import _lane_of
from handlers.account.messages import LOGIN_CALLBACK
from handlers.errors import describe


def test_busy_says_when_to_try_again():
    assert describe(Busy("taken", retry_after=12)) == "Altegio is busy, try again in about 12 s."
    assert describe(Busy("taken", retry_after=600)) == "Altegio is busy, try again in about 10 min."


def test_too_many_logins_says_when_the_next_one_is_allowed():
    text = describe(TooManyAttempts("too many", retry_after=240))
    assert "too many login attempts" in text and "about 4 min" in text


def test_requests_are_put_in_the_lane_their_person_waits_in():
    login = {"type": "view_submission", "view": {"callback_id": LOGIN_CALLBACK}}
    other_form = {"type": "view_submission", "view": {"callback_id": "something_else"}}
    photo = {"type": "event_callback", "event": {"type": "message", "files": [{"id": "F1"}]}}
    chat = {"type": "event_callback", "event": {"type": "message", "text": "hi"}}
    command = {"command": "/license", "text": "1"}
    assert _lane_of(login) == "login"
    assert _lane_of(photo) == "upload"
    assert [_lane_of(b) for b in (other_form, chat, command)] == ["interactive"] * 3
