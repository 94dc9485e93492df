"""Logging: one line per record, key=value context to follow one request, secrets redacted."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

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
    re.compile(r"(?i)(\"?(?:password|user_token|token)\"?\s*[:=]\s*\"?)[^\s,\"'&}]+"),
]


class Redactor(logging.Filter):
    """Replaces known secrets and token-shaped strings in every record's final message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = {s for s in secrets if s and len(s) >= 6}

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 6:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = self.redact(message), None
        record.request_id = request_id.get()
        record.slack_user = slack_user.get()
        return True


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
            entry["event"] = json.loads(REDACTOR.redact(json.dumps(event, default=str)))
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
