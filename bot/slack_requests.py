"""Check Slack's signature on the raw bytes, then turn them into a Bolt request, refusing what
is not a Slack payload. Nothing is parsed before the signature holds (bot/server.py).

Bolt's own parser has two gaps that a served bot must not inherit:
- it reads any form body that merely *contains* the word "payload" as an interactivity payload,
  so `/phone payload` or a channel named #payload-team became an empty request that Bolt
  answered 404 (Slack then shows the user "dispatch_failed");
- invalid JSON, a JSON value that is not an object, or bytes that are not UTF-8 raise out of
  it, and the server answered 500 with a stack trace in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.async_request import AsyncBoltRequest


class MalformedRequest(ValueError):
    """The body is not a Slack payload at all (answered 400)."""


def parse_body(text: str, content_type: str | None) -> dict[str, Any]:
    """What Slack sent: a JSON event, an interactivity `payload`, or a slash command's form."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            data: Any = json.loads(text) if text else {}
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        raise MalformedRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("the payload is not a JSON object")
    return data


# Slack signs within seconds of sending; Bolt and Slack's own docs allow five minutes of skew.
MAX_SIGNATURE_AGE = 300


class SlackSignature:
    """Slack's v0 signature over the raw bytes, computed while they arrive (nothing is parsed).

    The timestamp is checked first, from the headers alone, so a stale or unsigned request can be
    refused before its body is read; the HMAC then runs over each chunk as it comes.
    """

    def __init__(self, secret: str, headers: Mapping[str, str], *, now: float | None = None):
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("x-slack-request-timestamp", "")
        self._signature = lower.get("x-slack-signature", "")
        now = time.time() if now is None else now
        self.plausible = (
            timestamp.isascii()
            and timestamp.isdigit()
            and len(timestamp) <= 12
            and abs(now - int(timestamp)) <= MAX_SIGNATURE_AGE
            and self._signature.startswith("v0=")
        )
        self._mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":", hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        self._mac.update(chunk)

    def valid(self) -> bool:
        expected = "v0=" + self._mac.hexdigest()
        given = self._signature.encode("utf-8", "replace")
        return self.plausible and hmac.compare_digest(expected.encode(), given)


def bolt_request(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> AsyncBoltRequest:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not UTF-8") from exc
    content_type = (dict(headers or {}).get("content-type") or "").split(";")[0] or None
    parsed = parse_body(text, content_type)
    try:
        # Bolt keeps the raw body (lazy listeners re-read it) and parses it again, its way.
        request = AsyncBoltRequest(body=text, query=dict(query or {}), headers=dict(headers or {}))
        if request.body != parsed:
            # Bolt misread it (see above). Bolt reads a JSON body exactly as written, through its
            # public constructor, so it is handed the payload we parsed, as JSON: its context and
            # every later copy of the request then agree with what was signed.
            as_json = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
            as_json["content-type"] = "application/json"
            request = AsyncBoltRequest(
                body=json.dumps(parsed), query=dict(query or {}), headers=as_json
            )
    except (TypeError, AttributeError, KeyError, IndexError) as exc:
        # e.g. `"channel": false`: Bolt reads the ids it routes by without checking their type.
        raise MalformedRequest(f"Bolt cannot read this payload ({type(exc).__name__})") from exc
    return request
