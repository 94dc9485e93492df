"""bot.logging.Redactor on its own: registered secrets and token shapes never reach a log line."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from bot import logging as bot_logging
from bot.logging import Redactor

PARTNER = "partner-5f2b9c1d7e"
USER_TOKEN = "0123456789abcdef0123456789abcdef"


def _line(redactor: Redactor, msg: str, *args: object, exc: BaseException | None = None) -> str:
    record = logging.LogRecord("altegio.test", logging.INFO, __file__, 1, msg, args, None)
    if exc is not None:
        try:
            raise exc
        except type(exc):
            record.exc_info = sys.exc_info()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redactor)
    handler.setFormatter(logging.Formatter(bot_logging.FORMAT))
    handler.handle(record)
    return stream.getvalue()


def test_registered_secrets_are_replaced_wherever_they_appear() -> None:
    redactor = Redactor([PARTNER, "Correct-Horse-7731"])
    line = _line(redactor, "sent %s and %r", PARTNER, {"password": "Correct-Horse-7731"})
    assert PARTNER not in line and "Correct-Horse-7731" not in line
    assert line.count("[redacted]") >= 2


@pytest.mark.parametrize(
    "text",
    [
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxp-1-2-3-abcdef",
        "xapp-1-A0123-456-abcdef0123",
        "Authorization: Bearer some.partner-token",
        f"Authorization: Bearer {PARTNER}, User {USER_TOKEN}",
        f'{{"user_token": "{USER_TOKEN}"}}',
        "password=hunter2-but-longer&login=me",
        '"password": "p@ss w0rd"',
        f"token={USER_TOKEN}",
    ],
)
def test_token_shapes_are_scrubbed_even_when_never_registered(text: str) -> None:
    line = _line(Redactor(), "request: %s", text)
    assert "[redacted]" in line
    for secret in (
        "xoxb-1234",
        "xoxp-1-2",
        "xapp-1-A",
        "some.partner-token",
        PARTNER,
        USER_TOKEN,
        "hunter2",
        "p@ss",
    ):
        assert secret not in line, line


def test_secrets_in_tracebacks_are_scrubbed() -> None:
    line = _line(Redactor([PARTNER]), "failed", exc=RuntimeError(f"header Bearer {PARTNER}"))
    assert "RuntimeError" in line and "Traceback" in line
    assert PARTNER not in line


def test_short_values_are_not_registered_so_ordinary_words_survive() -> None:
    redactor = Redactor(["", "abc", "on"])
    redactor.add("no")
    line = _line(redactor, "location 4523464 is on, abc, no")
    assert "location 4523464 is on, abc, no" in line


def test_each_line_names_the_request_and_the_user() -> None:
    token = bot_logging.request_id.set("req-42")
    user = bot_logging.slack_user.set("U0USER")
    try:
        line = _line(Redactor(), "hello")
    finally:
        bot_logging.request_id.reset(token)
        bot_logging.slack_user.reset(user)
    assert "req=req-42 user=U0USER hello" in line


def test_configure_installs_one_redacting_handler_and_quietens_chatty_libraries() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    try:
        bot_logging.configure("DEBUG", [PARTNER])
        (handler,) = root.handlers
        assert bot_logging.REDACTOR in handler.filters
        assert root.level == logging.DEBUG
        # httpx logs full URLs (phone numbers among them) at INFO, headers at DEBUG
        assert logging.getLogger("httpx").level == logging.WARNING
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("altegio.test").debug("partner %s", PARTNER)
        assert "partner [redacted]" in stream.getvalue()
    finally:
        for old in list(root.handlers):
            root.removeHandler(old)
        for old in saved[0]:
            root.addHandler(old)
        root.setLevel(saved[1])
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    "text",
    [
        "password=hunter%212&login=me",
        "payload=%7B%22password%22%3A+%7B%22password%22%3A+%7B%22value%22%3A+%22hunter%212%22%7D",
        '{\\"password\\": \\"hunter!2\\"}',
        '{\\\\\\"value\\\\\\": \\\\\\"hunter!2\\\\\\"}',
        "{\\u0022password\\u0022: \\u0022hunter!2\\u0022}",
        "{'state': {'values': {'password': {'password': {'value': 'hunter!2'}}}}}",
        '"value": "hunter!2 \\"with quotes\\" and spaces"',
        '"view": {"id": "V1", "state": {"values": {"hunter": {}}}}',
    ],
)
def test_passwords_are_scrubbed_url_encoded_json_escaped_and_in_view_state(text: str) -> None:
    line = _line(Redactor(), "request: %s", text)
    assert "[redacted]" in line
    assert "hunter" not in line and "quotes" not in line, line


def test_registered_secrets_are_scrubbed_in_their_encoded_forms() -> None:
    secret = 'Partner "token"/with spaces!'
    redactor = Redactor([secret])
    from urllib.parse import quote, quote_plus

    for form in (quote(secret, safe=""), quote_plus(secret), json.dumps(secret)):
        assert "Partner" not in _line(redactor, "sent %s", form)


def test_ordinary_lines_survive() -> None:
    text = "alert sweep: 10 watches; file F1 state: uploaded; posted 2"
    assert text in _line(Redactor(), "%s", text)
