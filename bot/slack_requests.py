"""Turn the bytes Slack posted into a Bolt request, refusing what is not a Slack payload.

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

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
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
    except ValueError as exc:
        raise MalformedRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("the payload is not a JSON object")
    return data


def signed_by_slack(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over the raw bytes, within 5 minutes; for bodies Bolt cannot read
    (slack_sdk's verifier decodes the body as UTF-8 first, and fails on the rest)."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get("x-slack-request-timestamp", "")
    signature = lower.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > 300:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


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
        # Bolt keeps the raw body for the signature check, and parses it again (its way) here.
        request = AsyncBoltRequest(body=text, query=dict(query or {}), headers=dict(headers or {}))
        if request.body != parsed:
            request.body = parsed
            request.context = build_async_context(AsyncBoltContext(), parsed)
    except (TypeError, AttributeError, KeyError, IndexError) as exc:
        # e.g. `"channel": false`: Bolt reads the ids it routes by without checking their type.
        raise MalformedRequest(f"Bolt cannot read this payload ({type(exc).__name__})") from exc
    return request
