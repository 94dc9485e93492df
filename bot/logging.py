"""Logging: one line per record, key=value context to follow one request, secrets redacted."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

# Set by the request middleware; read by every record emitted while handling that request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
slack_user: contextvars.ContextVar[str] = contextvars.ContextVar("slack_user", default="-")
workspace: contextvars.ContextVar[str] = contextvars.ContextVar("workspace", default="-")

# Token shapes worth scrubbing even when they were never registered as a secret.
_PATTERNS = [
    re.compile(r"xox[abposre]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(bearer\s+)[^\s,\"']+"),
    re.compile(r"(?i)(user\s+)[A-Fa-f0-9]{16,}"),
]

# A quote as it appears in a log line: plain, backslash-escaped once or more (JSON inside JSON),
# as a \u0022 escape, or URL-encoded (a form-encoded interactivity payload).
_QUOTE = r"""(?:\\{0,3}["']|\\{1,2}u0022|(?:%5C)*%2[27])"""
_SPACE = r"(?:\s|\+|%20)*"
_SEPARATOR = _SPACE + r"(?::|=|%3A|%3D|\\{1,2}u003[ad])" + _SPACE
# Keys whose values are secret. `value` is what Slack puts under a view's state.values for each
# input (a login form's password is one), and under a button: none of it belongs in a log.
_KEY = r"(?:password|passwd|user_token|token|secret|value)"
_FIELDS = [
    # "password": "…", \"password\": \"…\", %22password%22%3A%22…%22, 'value': '…'
    re.compile(
        rf"(?i)({_QUOTE}?{_KEY}{_QUOTE}?{_SEPARATOR}(?P<q>{_QUOTE}))"
        rf"(?:\\{{3}}.|\\{{2}}|(?!(?P=q))(?:\\.|%5C%[0-9a-f]{{2}}|.))*"
    ),
    # password=hunter%212&…, token: abc
    re.compile(
        rf"(?i)({_QUOTE}?{_KEY}{_QUOTE}?{_SEPARATOR})"
        rf"(?!{_SPACE}(?:{_QUOTE}|\[redacted\]|\{{|%7B))[^\s,&;}}\])]+"
    ),
]
# Whatever remains of a view's state.values once the fields above are gone: the block ids, in
# any quoting. A record of a whole view is cut at its state.
_STATE = re.compile(rf"(?i)({_QUOTE}?state{_QUOTE}?{_SEPARATOR})(?:\{{|%7B).*", re.DOTALL)


class Redactor(logging.Filter):
    """Replaces known secrets and token-shaped strings in every record's final message.

    Known secrets are also caught URL-encoded and JSON-escaped; keys that name a secret
    (password, token, a form's value) have their values replaced however they are quoted; and a
    few library loggers whose records carry whole request payloads are dropped below a level.
    """

    # Logger name prefix -> the lowest level kept. slack_sdk's Socket Mode client logs every
    # envelope (a login form's password included) at DEBUG; Bolt's request verification logs
    # the raw body of each request it refuses.
    QUIET: tuple[tuple[str, int], ...] = (
        ("slack_sdk.socket_mode", logging.INFO),
        ("slack_bolt.RequestVerification", logging.CRITICAL + 1),
        ("slack_bolt.AsyncRequestVerification", logging.CRITICAL + 1),
    )

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 6:
            self._secrets.update(_encodings(secret))

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
        for pattern in _FIELDS:
            text = pattern.sub(_keep_key, text)
        return _STATE.sub(lambda m: m.group(1) + "[redacted]", text)

    def _quiet(self, record: logging.LogRecord) -> bool:
        for prefix, lowest in self.QUIET:
            if record.name.startswith(prefix) and record.levelno < lowest:
                return True
        return False

    def filter(self, record: logging.LogRecord) -> bool:
        if self._quiet(record):
            return False
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = self.redact(message), None
        record.request_id = request_id.get()
        record.slack_user = slack_user.get()
        return True


def _keep_key(match: re.Match[str]) -> str:
    return match.group(1) + "[redacted]"


def _encodings(secret: str) -> set[str]:
    """A secret as it may appear in a log line: raw, URL-encoded, JSON-escaped (once or twice)."""
    once = json.dumps(secret)[1:-1]
    forms = {secret, quote(secret, safe=""), quote_plus(secret), once, json.dumps(once)[1:-1]}
    forms |= {quote(form, safe="") for form in (once,)}
    return {form for form in forms if form}


REDACTOR = Redactor()
FORMAT = "%(asctime)s %(levelname)s %(name)s req=%(request_id)s user=%(slack_user)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log pipelines. The Redactor has run by the time a record
    gets here (a handler's filters come before its formatter), so messages are clean already."""

    # LogRecord's own attributes: anything else was passed in `extra` and is kept as a field.
    _STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
    _CONTEXT = frozenset({"request_id", "slack_user", "workspace"})

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
            "workspace": workspace.get(),
            "user": getattr(record, "slack_user", slack_user.get()),
        }
        event = {
            k: v
            for k, v in vars(record).items()
            if k not in self._STANDARD and k not in self._CONTEXT and not k.startswith("_")
        }
        if event:
            # Fields passed in `extra` bypass the Redactor, which sees only the message.
            redacted = REDACTOR.redact(json.dumps(event, default=str))
            try:
                entry["event"] = json.loads(redacted)
            except ValueError:  # a value or a view's state cut out: the text, still redacted
                entry["event"] = redacted
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    *,
    fmt: str = "text",
    path: str | None = None,
) -> None:
    """Log to stderr, or to the file at `path`; `fmt` "json" for one JSON object per line."""
    for secret in secrets:
        REDACTOR.add(secret)
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
    )
    handler.addFilter(REDACTOR)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's full URL at INFO (a phone number is a path segment), and it,
    # httpcore and aiosqlite echo bodies at DEBUG; altegio.api logs each call already, masked.
    for noisy in ("httpx", "httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("asyncio").setLevel(max(logging.INFO, logging.getLevelName(level)))
