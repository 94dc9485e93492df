"""A fake Slack Web API on loopback, with response_url endpoints and private file downloads.

The bot points SLACK_API_URL at `fake.api_url`; slack_sdk's clients then send form-encoded or
JSON calls here, which are recorded as `SlackCall`s and answered like Slack does (HTTP 200 with
`ok`, or `ok: false` and an error code). Files live behind `url_private_download` on this server
and, like Slack, answer the HTML sign-in page with HTTP 200 to a request without the bot token.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.base import FakeServer
from tests.fakes.block_limits import message_problems, view_problems
from tests.fakes.faults import JUNK_BODIES, Rule, matcher
from tests.fakes.records import Journal, RecordedRequest, record_of
from tests.fakes.slack_workspace import BOT_TOKEN, TEAM_ID, SlackWorkspace

JSON_ARGS = ("blocks", "attachments", "view", "metadata")  # JSON strings when form-encoded
APP_TOKEN = "xapp-1-A0TEST-1-test-app-token"
LOGIN_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>'
    b'<h1>Sign in to Slack</h1><form action="/signin" method="post">'
    b'<input type="email" name="email"></form></body></html>'
)


@dataclass
class SlackCall:
    method: str  # e.g. "chat.postMessage"
    args: dict[str, Any]  # query, form and JSON fields merged; `blocks`/`view` decoded
    token: str | None
    status: int | None  # None when the connection was dropped
    response: dict[str, Any] | None
    record: RecordedRequest
    team: str | None = None  # the workspace the token speaks for (None: no such token)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass
class ResponsePost:
    url: str
    body: Any  # the JSON posted, e.g. {"text": ..., "blocks": ..., "response_type": ...}
    record: RecordedRequest


def _foreign_host() -> tuple[str, str]:
    """(bind address, URL host) of a loopback host other than 127.0.0.1, for redirects."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
        return "127.0.0.2", "127.0.0.2"
    except OSError:  # not every system routes all of 127/8
        return "127.0.0.1", "localhost"


class FakeSlack(SlackWorkspace, FakeServer):
    """`with FakeSlack() as fake:` serves `fake.api_url` (…/api/) until the block ends."""

    def __init__(
        self, bot_token: str = BOT_TOKEN, *, team_id: str = TEAM_ID, latency: float = 0.0
    ) -> None:
        self._calls: Journal[SlackCall] = Journal()
        self._posts: Journal[ResponsePost] = Journal()
        # Posts to a response_url refused for breaking Block Kit's limits (never shown).
        self.refused_responses: list[ResponsePost] = []
        # Errors for the next messages or views with blocks, refused whatever they hold.
        self._blocks_refusals: list[str] = []
        # Where the consent page sends the installer back (the app's Redirect URL).
        self.oauth_redirect_url: str | None = None
        SlackWorkspace.__init__(self, bot_token, team_id)
        # Where apps.connections.open sends Socket Mode clients (a FakeSocketMode's URL).
        self.socket_mode_url: str | None = None
        bind_host, self._foreign_name = _foreign_host()
        FakeServer.__init__(self, latency=latency, hosts=("127.0.0.1", bind_host))

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def foreign_url(self) -> str:
        """Base URL of "another host" (not this one) to which file downloads may redirect."""
        return f"http://{self._foreign_name}:{self._server.address(1)[1]}"

    def reset(self) -> None:
        FakeServer.reset(self)
        self.oauth_redirect_url = None
        self._calls.clear()
        self._posts.clear()
        self.refused_responses.clear()
        self._blocks_refusals.clear()
        self._reset_data()

    def reset_calls(self) -> None:
        """Forget the calls, posts and downloads received so far; keep workspaces and data."""
        self.reset_requests()
        self._calls.clear()
        self._posts.clear()
        self.refused_responses.clear()

    def response_url(self) -> str:
        """A fresh response_url; what is posted to it is kept for `wait_for_response`."""
        return f"{self.url}/response/{uuid.uuid4().hex}"

    # -- reading what happened ------------------------------------------------------------
    def calls(
        self, method: str | None = None, *, ok: bool | None = None, **args: Any
    ) -> list[SlackCall]:
        """Calls (every attempt, also refused ones) to `method` whose args include `args`."""
        return self._calls.items(_call_filter(method, ok, args))

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (a deadline, not a cancel scope)
        *,
        ok: bool | None = None,
        **args: Any,
    ) -> list[SlackCall]:
        """Wait until `count` matching calls arrived; returns every matching call so far."""
        return await self._calls.wait_async(
            _call_filter(method, ok, args), count, timeout, f"{method} calls"
        )

    def wait_for_sync(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        *,
        ok: bool | None = None,
        **args: Any,
    ) -> list[SlackCall]:
        return self._calls.wait(_call_filter(method, ok, args), count, timeout, f"{method} calls")

    def responses(self, url: str | None = None) -> list[Any]:
        """JSON bodies posted to `url` (or to any response_url), oldest first."""
        return [p.body for p in self._posts.items(_post_filter(url))]

    async def wait_for_response(
        self,
        url: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Any]:
        posts = await self._posts.wait_async(_post_filter(url), count, timeout, f"posts to {url}")
        return [p.body for p in posts]

    def wait_for_response_sync(self, url: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        posts = self._posts.wait(_post_filter(url), count, timeout, f"posts to {url}")
        return [p.body for p in posts]

    def downloads(self, file_id: str | None = None) -> list[RecordedRequest]:
        """Requests for file bytes, on this host and on `foreign_url`."""
        return [
            r
            for r in self.requests()
            if r.path.startswith(("/files-pri/", "/elsewhere/"))
            and (file_id is None or f"{file_id}/" in r.path)
        ]

    # -- faults ---------------------------------------------------------------------------
    def fail(
        self,
        method: str | None = None,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        body: str | bytes = "empty",
        delay: float = 0.0,
    ) -> Rule:
        """Make the next `times` calls to `method` (None: any; "response_url"; "files") fail.

        `error="not_in_channel"`: HTTP 200 with ok:false. `status=429`: Slack's rate limit
        answer with `Retry-After` (default 1 s). Other statuses: `body` "empty", "html",
        "garbage", "truncated" or raw bytes.
        """
        headers: dict[str, str] = {}
        content_type: str | None = "application/json"
        if error is not None:
            status, raw = status or 200, json.dumps({"ok": False, "error": error}).encode()
        elif status == 429:
            raw = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            headers["Retry-After"] = str(1 if retry_after is None else retry_after)
        else:
            status = status or 500
            raw, content_type = (body, None) if isinstance(body, bytes) else JUNK_BODIES[body]
        return self.rules.add(
            Rule(
                match=matcher(method, exact=True),
                times=times,
                status=status,
                body=raw,
                content_type=content_type,
                headers=headers,
                delay=delay,
            )
        )

    def refuse_blocks(self, error: str = "invalid_blocks", *, times: int = 1) -> None:
        """Refuse the next `times` payloads with blocks, whatever they hold, with `error`.

        A message with blocks (chat.postMessage, postEphemeral, update, or a post to a
        response_url) or a view (views.open, update, push, publish) counts; a message of text
        alone goes through. Slack's answer is the one it gives a payload it will not take:
        `{"ok": false, "error": error}` from the Web API, HTTP 400 with the code from a
        response_url.
        """
        self._blocks_refusals.extend([error] * times)

    def _forced_refusal(self, payload: dict[str, Any], *, view: bool = False) -> str | None:
        carries = "view" in payload if view else bool(payload.get("blocks"))
        if not carries or not self._blocks_refusals:
            return None
        return self._blocks_refusals.pop(0)

    def rate_limit(
        self, method: str | None = None, *, times: int | None = 1, retry_after: int = 1
    ) -> Rule:
        return self.fail(method, status=429, retry_after=retry_after, times=times)

    def drop(self, method: str | None = None, *, times: int | None = 1) -> Rule:
        return self.rules.add(Rule(match=matcher(method, exact=True), times=times, drop=True))

    def delay(self, seconds: float, method: str | None = None, *, times: int | None = None) -> Rule:
        return self.rules.add(Rule(match=matcher(method, exact=True), times=times, delay=seconds))

    # -- HTTP -----------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        app.router.add_get("/elsewhere/{file_id}/{name}", self._elsewhere)

    def fault_key(self, request: web.Request) -> str:
        path = request.path
        if path.startswith("/api/"):
            return path.removeprefix("/api/")
        if path.startswith("/response/"):
            return "response_url"
        return "files"

    def after(self, request: web.Request, record: RecordedRequest) -> None:
        if record.path.startswith("/api/"):
            try:
                response = json.loads(record.response_body) if record.response_body else None
            except ValueError:
                response = None
            token = _token(record)
            identity = self.identity(token)
            self._calls.append(
                SlackCall(
                    method=record.path.removeprefix("/api/"),
                    args=_call_args(record),
                    token=token,
                    status=record.status,
                    response=response,
                    record=record,
                    team=identity.workspace if identity else None,
                )
            )

    async def _api(self, request: web.Request) -> web.Response:
        record = record_of(request)
        method = request.match_info["method"]
        if method == "apps.connections.open":
            return web.json_response(self._connections_open(_token(record)))
        handler = self.api_methods().get(method)
        if method == "oauth.v2.access":  # the app's own credentials, no token
            client_id, client_secret = _client_credentials(record)
            code = str(_call_args(record).get("code") or "")
            return web.json_response(self.oauth_v2_access(client_id, client_secret, code))
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        token = _token(record)
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if token not in self.valid_tokens:
            error = "token_revoked" if token in self.identities else "invalid_auth"
            return web.json_response({"ok": False, "error": error})
        refusal = self._forced_web_refusal(method, _call_args(record)) or limits_refusal(
            method, _call_args(record)
        )
        if refusal is not None:
            return web.json_response(refusal)
        self.current = self.identity(token)
        try:
            return web.json_response(handler(_call_args(record)))
        finally:
            self.current = None

    def _forced_web_refusal(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        if method not in MESSAGE_METHODS | VIEW_METHODS:
            return None
        error = self._forced_refusal(args, view=method in VIEW_METHODS)
        if error is None:
            return None
        where = "view.blocks" if method in VIEW_METHODS else "blocks"
        return {"ok": False, "error": error, "errors": [f"{where}: refused by the test"]}

    async def _authorize(self, request: web.Request) -> web.Response:
        """Slack's consent page, approved at once: back to the app's redirect URL with a code
        for the workspace named by `team` (Bolt passes /slack/install?team=… on), or with
        `error=access_denied` when `team` is not a workspace added with `add_workspace`."""
        query = request.query
        target = query.get("redirect_uri") or self.oauth_redirect_url
        if not target:
            return web.Response(status=400, text="no redirect URL: set oauth_redirect_url")
        team = query.get("team", "")
        state = query.get("state", "")
        if team in self.workspaces:
            outcome = {"code": self.install_code(team), "state": state}
        else:
            outcome = {"error": "access_denied", "state": state}
        raise web.HTTPFound(f"{target}?{urlencode(outcome)}")

    def _connections_open(self, token: str | None) -> dict[str, Any]:
        """Socket Mode's first call, made with the app-level token (not the bot token)."""
        if token != APP_TOKEN:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        if self.socket_mode_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_mode_url}

    async def _response_url(self, request: web.Request) -> web.Response:
        record = record_of(request)
        url = f"{self.url}/response/{request.match_info['id']}"
        body = record.json if isinstance(record.json, dict) else {}
        forced = self._forced_refusal(body)
        problems = message_problems(body)
        if forced or problems:
            # Like Slack's response_url: HTTP 400 with the error code as plain text, and nothing
            # shown to anyone.
            self.refused_responses.append(ResponsePost(url=url, body=record.json, record=record))
            return web.Response(status=400, text=forced or _refusal_code(problems))
        self._posts.append(ResponsePost(url=url, body=record.json, record=record))
        return web.json_response({"ok": True})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        record = record_of(request)
        team, _, file_id = request.match_info["team_file"].partition("-")
        fake_file = self.files.get(file_id)
        if fake_file is None or team != fake_file.team:
            return web.Response(status=404, text="file not found")
        token = _token(record)
        identity = self.identity(token)
        authorized = (
            token in self.valid_tokens and identity is not None and identity.workspace == team
        )
        if not authorized or fake_file.login_page:
            return web.Response(body=LOGIN_PAGE, content_type="text/html", charset="utf-8")
        if fake_file.redirect:
            raise web.HTTPFound(f"{self.foreign_url}/elsewhere/{file_id}/{fake_file.name}")
        return web.Response(body=fake_file.content, content_type=fake_file.mimetype)

    async def _elsewhere(self, request: web.Request) -> web.Response:
        fake_file = self.files.get(request.match_info["file_id"])
        if fake_file is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=fake_file.content, content_type=fake_file.mimetype)


MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


def limits_refusal(method: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer to a message or view that breaks Block Kit's limits; None if it keeps them.

    Like Slack: `invalid_blocks` (or `msg_too_long` for the text) for a message,
    `invalid_arguments` for a view, with the reasons in `errors`.
    """
    if method in MESSAGE_METHODS:
        problems = message_problems(args)
        if problems:
            return {"ok": False, "error": _refusal_code(problems), "errors": problems}
    elif method in VIEW_METHODS and "view" in args:
        problems = view_problems(args["view"])
        if problems:
            return {"ok": False, "error": "invalid_arguments", "errors": problems}
    return None


def _refusal_code(problems: list[str]) -> str:
    return "msg_too_long" if all(p.startswith("text:") for p in problems) else "invalid_blocks"


def _client_credentials(record: RecordedRequest) -> tuple[str, str]:
    """oauth.v2.access's client id and secret: HTTP Basic (slack_sdk's way) or form fields."""
    scheme, _, value = (record.authorization or "").partition(" ")
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
            return client_id, secret
    args = _call_args(record)
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")


def _token(record: RecordedRequest) -> str | None:
    scheme, _, token = (record.authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return _call_args(record).get("token") if record.path.startswith("/api/") else None


def _call_args(record: RecordedRequest) -> dict[str, Any]:
    args: dict[str, Any] = {**record.query, **record.form}
    if isinstance(record.json, dict):
        args.update(record.json)
    for key in JSON_ARGS:
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def _call_filter(
    method: str | None, ok: bool | None, args: dict[str, Any]
) -> Callable[[SlackCall], bool]:
    def where(call: SlackCall) -> bool:
        return (
            (method is None or call.method == method)
            and (ok is None or call.ok == ok)
            and all(call.args.get(k) == v for k, v in args.items())
        )

    return where


def _post_filter(url: str | None) -> Callable[[ResponsePost], bool]:
    return lambda post: url is None or post.url == url
