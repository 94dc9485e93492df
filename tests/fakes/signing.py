"""Signed requests as Slack sends them to the bot: slash commands, interactivity and events.

Each builder returns `(body, headers)` signed with Slack's v0 scheme (HMAC-SHA256 over
`v0:{timestamp}:{body}`); pass `secret=` or `timestamp=` to forge a bad or stale one.
`SlackSender` posts them to a running bot. Defaults never point outside loopback: the default
response_url is a closed loopback port, so a reply nobody asked for cannot reach the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from tests.fakes.slack_workspace import APP_ID, BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
USER_ID = "U0USER"
CHANNEL_ID = "C0CHANNEL"
DEAD_RESPONSE_URL = "http://127.0.0.1:9/response/unused"

Signed = tuple[bytes, dict[str, str]]


def sign(
    body: bytes | str, *, secret: str = SIGNING_SECRET, timestamp: float | None = None
) -> dict[str, str]:
    """The two headers that make `body` a genuine Slack request (now, or at `timestamp`)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time() if timestamp is None else timestamp))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _form(fields: dict[str, str], secret: str, timestamp: float | None) -> Signed:
    body = urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return body, headers | sign(body, secret=secret, timestamp=timestamp)


def _trigger() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = USER_ID,
    user_name: str = "someone",
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
    channel_name: str = "general",
    trigger_id: str | None = None,
    response_url: str = DEAD_RESPONSE_URL,
    secret: str = SIGNING_SECRET,
    timestamp: float | None = None,
    **extra: str,
) -> Signed:
    """`/license 4523464` is `slash_command("/license", "4523464", response_url=...)`."""
    fields = {
        "token": "verification-token",
        "team_id": team_id,
        "team_domain": "test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger(),
        **extra,
    }
    return _form(fields, secret, timestamp)


def interactive(
    payload: dict[str, Any], *, secret: str = SIGNING_SECRET, timestamp: float | None = None
) -> Signed:
    """Any interactivity payload (form field `payload`, JSON), signed."""
    return _form({"payload": json.dumps(payload)}, secret, timestamp)


def _actor(
    user_id: str, team_id: str, enterprise_id: str | None = None, org_wide: bool = False
) -> dict[str, Any]:
    return {
        "user": {"id": user_id, "username": "someone", "name": "someone", "team_id": team_id},
        "team": {"id": team_id, "domain": "test"},
        "api_app_id": APP_ID,
        "token": "verification-token",
        "is_enterprise_install": org_wide,
        "enterprise": {"id": enterprise_id, "name": "Org"} if enterprise_id else None,
    }


def button(action_id: str, value: str = "", *, block_id: str = "actions") -> dict[str, Any]:
    """One clicked button, for `block_actions(...)`."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "text": {"type": "plain_text", "text": action_id},
        "action_ts": f"{time.time():.6f}",
    }


def block_actions(
    actions: dict[str, Any] | list[dict[str, Any]],
    *,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    channel_id: str | None = CHANNEL_ID,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    response_url: str | None = DEAD_RESPONSE_URL,
    trigger_id: str | None = None,
    state: dict[str, Any] | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: float | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> Signed:
    """A click on a message button, or on a view (App Home, modal) when `view` is given."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        **_actor(user_id, team_id, enterprise_id, org_wide),
        "trigger_id": trigger_id or _trigger(),
        "actions": [actions] if isinstance(actions, dict) else list(actions),
        "state": {"values": state or {}},
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0VIEW")}
        payload["view"] = {"id": "V0VIEW", "team_id": team_id, "state": {"values": {}}, **view}
    else:
        message = message or {
            "type": "message",
            "ts": f"{time.time():.6f}",
            "text": "",
            "user": BOT_USER_ID,
            "blocks": [],
        }
        payload["container"] = {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["message"] = message
        payload["channel"] = {"id": channel_id, "name": "general"}
        if response_url is not None:
            payload["response_url"] = response_url
    return interactive(payload, secret=secret, timestamp=timestamp)


def text_inputs(values: dict[str, str]) -> dict[str, Any]:
    """View state values from `{"block/action": text}` (or `{"id": text}` for both ids)."""
    state: dict[str, Any] = {}
    for key, text in values.items():
        block, _, action = key.partition("/")
        state.setdefault(block, {})[action or block] = {"type": "plain_text_input", "value": text}
    return state


def view_submission(
    callback_id: str,
    values: dict[str, Any],
    *,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    private_metadata: str = "",
    view_id: str = "V0VIEW",
    trigger_id: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: float | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> Signed:
    """A modal's submit; `values` is Slack's state.values (see `text_inputs`)."""
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "state": {"values": values},
        "hash": f"{time.time():.6f}.abc",
        "title": {"type": "plain_text", "text": "Form"},
        "blocks": [],
        "root_view_id": view_id,
        "app_id": APP_ID,
        "bot_id": "B0BOT",
    }
    payload = {
        "type": "view_submission",
        **_actor(user_id, team_id, enterprise_id, org_wide),
        "view": view,
        "trigger_id": trigger_id or _trigger(),
        "response_urls": [],
    }
    return interactive(payload, secret=secret, timestamp=timestamp)


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    secret: str = SIGNING_SECRET,
    timestamp: float | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> Signed:
    """An Events API delivery; a redelivery reuses `event_id` and sets `retry_num`."""
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if org_wide else team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": False,
    }
    body = json.dumps(envelope).encode()
    headers = {"Content-Type": "application/json"} | sign(body, secret=secret, timestamp=timestamp)
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
    return body, headers


def url_verification(challenge: str = "challenge-token", *, secret: str = SIGNING_SECRET) -> Signed:
    body = json.dumps(
        {"token": "verification-token", "challenge": challenge, "type": "url_verification"}
    ).encode()
    return body, {"Content-Type": "application/json"} | sign(body, secret=secret)


def message_event(
    text: str = "",
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
    channel_type: str = "channel",
    subtype: str | None = None,
) -> dict[str, Any]:
    """A `message` event; with `files` it is a `file_share` (as when a photo is shared)."""
    ts = ts or f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
    }
    if files:
        event |= {"subtype": "file_share", "files": files, "upload": False, "display_as_bot": False}
    if subtype:
        event["subtype"] = subtype
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def file_shared_event(
    file_id: str, *, channel_id: str = CHANNEL_ID, user_id: str = USER_ID
) -> dict[str, Any]:
    return {
        "type": "file_shared",
        "file_id": file_id,
        "file": {"id": file_id},
        "user_id": user_id,
        "channel_id": channel_id,
        "event_ts": f"{time.time():.6f}",
    }


def app_home_opened_event(user: str = USER_ID, *, tab: str = "home") -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


class SlackSender:
    """Posts signed requests to a running bot, e.g. `http://127.0.0.1:3000/slack/events`."""

    def __init__(self, url: str, *, secret: str = SIGNING_SECRET, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self._http = httpx.AsyncClient(timeout=timeout)

    async def post(self, signed: Signed) -> httpx.Response:
        body, headers = signed
        return await self._http.post(self.url, content=body, headers=headers)

    async def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        return await self.post(slash_command(command, text, secret=self.secret, **kwargs))

    async def action(
        self, actions: dict[str, Any] | list[dict[str, Any]], **kwargs: Any
    ) -> httpx.Response:
        return await self.post(block_actions(actions, secret=self.secret, **kwargs))

    async def submit(
        self, callback_id: str, values: dict[str, Any], **kwargs: Any
    ) -> httpx.Response:
        return await self.post(view_submission(callback_id, values, secret=self.secret, **kwargs))

    async def event(self, event: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.post(event_callback(event, secret=self.secret, **kwargs))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
