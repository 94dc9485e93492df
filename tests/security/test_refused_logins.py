"""A login form carrying a password, sent every way Slack refuses and then the right way, leaves
no trace of the password in any log: at DEBUG, in HTTP mode (in process, and the real
`altegio-bot serve` writing to its standard error) and in Socket Mode. The password is looked
for raw, URL-encoded and JSON-escaped.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode

import httpx
import pytest
from aiohttp import WSMsgType, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from handlers.account.messages import LOGIN_CALLBACK
from tests.bot_fixtures import MakeBot
from tests.bot_server import bot_settings
from tests.cli.support import ServedCli
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack
from tests.fakes.signing import SIGNING_SECRET, sign, text_inputs, view_submission

# A password with characters that each encoding changes: !, space, quotes, /, & and =.
PASSWORD = 'Hunter!2 "quoted" pass/9&x=1'
LOGIN = "manager@example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def password_forms() -> list[str]:
    once = json.dumps(PASSWORD)[1:-1]
    return [
        PASSWORD,
        "Hunter",  # in every encoding below, this part stays as it is
        quote(PASSWORD),
        quote(PASSWORD, safe=""),
        quote_plus(PASSWORD),
        once,
        json.dumps(once)[1:-1],
        quote_plus(once),
        once.replace('\\"', "\\u0022"),
    ]


def assert_no_password(text: str, where: str) -> None:
    for form in password_forms():
        assert form not in text, f"the password ({form!r}) in {where}:\n{text[-3000:]}"


def _form(values: dict[str, str]) -> dict[str, Any]:
    return text_inputs({"login": LOGIN, "password": values.get("password", PASSWORD)})


def refused_submissions() -> list[tuple[str, int, bytes, dict[str, str]]]:
    """(what, expected status, body, headers) for each way a login form is refused."""
    values = _form({})
    stale_body, stale = view_submission(LOGIN_CALLBACK, values, timestamp=time.time() - 600)
    future_body, future = view_submission(LOGIN_CALLBACK, values, timestamp=time.time() + 600)
    rotated_body, rotated = view_submission(LOGIN_CALLBACK, values, secret="the-previous-secret")
    good_body, good = view_submission(LOGIN_CALLBACK, values)
    garbled = good | {"X-Slack-Signature": "v0=" + "0" * 64}
    tampered = good_body.replace(b"manager", b"attacker", 1)
    unsigned = {k: v for k, v in good.items() if not k.startswith("X-Slack")}
    truncated = good_body[: len(good_body) * 2 // 3]  # the password is in the part kept
    as_json = json.dumps(
        {"type": "view_submission", "view": {"state": {"values": values}}}
    ).encode()
    invalid_utf8 = good_body + b"\xff\xfe"
    return [
        ("stale timestamp", 401, stale_body, stale),
        ("timestamp from the future", 401, future_body, future),
        ("rotated signing secret", 401, rotated_body, rotated),
        ("bad signature", 401, good_body, garbled),
        ("body changed after signing", 401, tampered, good),
        ("unsigned", 401, good_body, unsigned),
        ("malformed, unsigned", 401, truncated, FORM),
        ("malformed, signed", 400, truncated, FORM | sign(truncated)),
        ("JSON, badly signed", 401, as_json, {"Content-Type": "application/json"} | sign(b"x")),
        ("invalid UTF-8, signed", 400, invalid_utf8, FORM | sign(invalid_utf8)),
    ]


def send_all(post: Callable[[bytes, dict[str, str]], httpx.Response]) -> None:
    for what, status, body, headers in refused_submissions():
        response = post(body, headers)
        assert response.status_code == status, (what, response.status_code, response.text)
    body, headers = view_submission(LOGIN_CALLBACK, _form({}))
    response = post(body, headers)
    assert response.status_code == 200 and response.text == "", response.text


def _password_reached_altegio_once(fake_altegio: FakeAltegio) -> None:
    auths = [r for r in fake_altegio.requests() if r.path.endswith("/auth")]
    assert len(auths) == 1, [r.path for r in fake_altegio.requests()]
    assert auths[0].json["password"] == PASSWORD


def test_http_refusals_log_no_password_at_debug(
    make_bot: MakeBot,
    fake_altegio: FakeAltegio,
    bot_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_altegio.add_user(LOGIN, PASSWORD)
    bot = make_bot(log_level="DEBUG")
    with httpx.Client(timeout=10) as http:
        send_all(lambda body, headers: http.post(bot.url, content=body, headers=headers))
    assert bot.call(bot.runtime.store.get_account(TEAM_ID, USER_ID)) is not None
    _password_reached_altegio_once(fake_altegio)
    written = bot_log.getvalue()
    assert "refused a request" in written and "linked an Altegio account" in written
    assert_no_password(written, "the log the bot writes")
    # Not even handed to a logger: the redactor is the last line, not the first.
    assert_no_password("\n".join(r.getMessage() for r in caplog.records), "a log record")


def test_the_served_process_writes_no_password_at_debug(
    fake_settings: dict[str, str], fake_altegio: FakeAltegio, tmp_path: Path
) -> None:
    fake_altegio.add_user(LOGIN, PASSWORD)
    settings = {
        **fake_settings,
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "log_level": "DEBUG",
    }
    served = ServedCli(settings, tmp_path)
    try:
        served.wait_ready()
        with httpx.Client(timeout=10) as http:
            send_all(lambda body, headers: http.post(served.url, content=body, headers=headers))
        _password_reached_altegio_once(fake_altegio)
    finally:
        assert served.stop() == 0
    written = served.log()
    assert " DEBUG " in written and "linked an Altegio account" in written
    assert "Traceback" not in written
    assert_no_password(written, "the output of altegio-bot serve")


# ------------------------------------------------------------------------ Socket Mode


class FakeSocketMode:
    """Slack's side of Socket Mode: apps.connections.open, then one WebSocket that says hello,
    delivers the envelopes given and collects the bot's acknowledgements."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.acks: list[dict[str, Any]] = []
        self.done = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/api/apps.connections.open", self._open)
        self.app.router.add_get("/link", self._link)
        self.url = ""

    async def _open(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "url": self.url.replace("http", "ws") + "/link"})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                if len(self.acks) == len(self.envelopes):
                    self.done.set()
        return ws


async def test_socket_mode_logs_no_password_at_debug(
    fake_settings: dict[str, str],
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    tmp_path: Path,
    bot_log: io.StringIO,
) -> None:
    fake_altegio.add_user(LOGIN, PASSWORD)
    body, _ = view_submission(LOGIN_CALLBACK, _form({}))
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    envelope = {
        "envelope_id": "e-1",
        "type": "interactive",
        "accepts_response_payload": True,
        "payload": payload,
    }
    slack_side = FakeSocketMode([envelope])
    runner = web.AppRunner(slack_side.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack_side.url = f"http://127.0.0.1:{port}"
    settings = bot_settings(
        **fake_settings,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack_app_token="xapp-1-A0TEST-1-" + "a" * 32,
        log_level="DEBUG",
    )
    runtime = await Runtime.open(settings)
    handler = AsyncSocketModeHandler(
        runtime.app,
        settings.slack_app_token.get_secret_value(),  # type: ignore[union-attr]
        web_client=AsyncWebClient(base_url=slack_side.url + "/api/"),
    )
    try:
        await handler.connect_async()
        await asyncio.wait_for(slack_side.done.wait(), timeout=15)
        for _ in range(100):
            if await runtime.store.get_account(TEAM_ID, USER_ID) is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await handler.close_async()
        await runtime.close()
        await runner.cleanup()
    assert [a["envelope_id"] for a in slack_side.acks] == ["e-1"]
    _password_reached_altegio_once(fake_altegio)
    written = bot_log.getvalue()
    assert "linked an Altegio account" in written
    assert_no_password(written, "the log the bot writes in Socket Mode")


def test_a_url_encoded_form_as_bolt_once_logged_it_is_scrubbed() -> None:
    """The shape Bolt's own refusal used to log: the whole body, URL-encoded."""
    from bot.logging import Redactor

    body = urlencode({"payload": json.dumps({"view": {"state": {"values": _form({})}}})})
    line = Redactor().redact(f"Invalid request signature detected (body: {body})")
    assert_no_password(line, "a redacted line")
    assert SIGNING_SECRET not in line
