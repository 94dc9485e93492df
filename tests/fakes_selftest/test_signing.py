"""Signed requests are what Bolt accepts: checked with slack_sdk's verifier and a live Bolt app."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import BOT_TOKEN, SIGNING_SECRET, SlackSender
from tests.fakes.server import ThreadedServer, bind_loopback
from tests.fakes.signing import (
    block_actions,
    button,
    event_callback,
    message_event,
    sign,
    slash_command,
    text_inputs,
    view_submission,
)


def test_signatures_verify_and_forgeries_do_not():
    verifier = SignatureVerifier(SIGNING_SECRET)
    body, headers = slash_command("/license", "4523464")
    assert verifier.is_valid_request(body, headers)
    assert parse_qs(body.decode())["text"] == ["4523464"]
    stale_body, stale = slash_command("/license", "1", timestamp=time.time() - 600)
    assert not verifier.is_valid_request(stale_body, stale)
    forged_body, forged = slash_command("/license", "1", secret="wrong")
    assert not verifier.is_valid_request(forged_body, forged)
    assert sign(b"x", timestamp=1)["X-Slack-Request-Timestamp"] == "1"


def test_event_redeliveries_carry_retry_headers():
    body, headers = event_callback(message_event("hi"), event_id="Ev1", retry_num=2)
    envelope = json.loads(body)
    assert envelope["event_id"] == "Ev1" and envelope["type"] == "event_callback"
    assert headers["X-Slack-Retry-Num"] == "2"


@pytest.fixture
def bolt_app(fake_slack):
    """A bare Bolt app on its own loopback server, talking to the fake Slack."""
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
        signing_secret=SIGNING_SECRET,
    )
    seen: dict[str, object] = {}

    @app.command("/license")
    async def license_command(ack, respond, command):
        await ack()
        await respond(f"licence {command['text']}")

    @app.action("snooze")
    async def snooze(ack, body, respond):
        await ack()
        seen["action"] = body["actions"][0]["value"]
        await respond("snoozed")

    @app.view("login")
    async def login(ack, view):
        await ack(response_action="errors", errors={"password": "wrong"})
        seen["login"] = view["state"]["values"]["login"]["login"]["value"]

    @app.event("message")
    async def message(event, client):
        seen["files"] = event.get("files")
        await client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="ok")

    server = ThreadedServer(app.web_app(), [bind_loopback()])
    server.start()
    host, port = server.address()
    yield f"http://{host}:{port}/slack/events", seen
    server.stop()


async def test_a_bolt_app_accepts_every_kind_of_request(fake_slack, bolt_app):
    url, seen = bolt_app
    async with SlackSender(url) as slack:
        response_url = fake_slack.response_url()
        acked = await slack.command("/license", "4523464", response_url=response_url)
        assert acked.status_code == 200
        replies = await fake_slack.wait_for_response(response_url)
        assert replies[0]["text"] == "licence 4523464"

        response_url = fake_slack.response_url()
        clicked = await slack.action(button("snooze", "7"), response_url=response_url)
        assert clicked.status_code == 200
        assert (await fake_slack.wait_for_response(response_url))[0]["text"] == "snoozed"
        assert seen["action"] == "7"

        submitted = await slack.submit("login", text_inputs({"login": "anna@example.com"}))
        assert submitted.json() == {"response_action": "errors", "errors": {"password": "wrong"}}
        assert seen["login"] == "anna@example.com"

        file = fake_slack.add_file(b"\xff\xd8\xff", "p.jpg")
        delivered = await slack.event(message_event("master 17 location 1", files=[file]))
        assert delivered.status_code == 200
        reply = (await fake_slack.wait_for("chat.postMessage"))[0]
        assert reply.args["text"] == "ok" and seen["files"] == [file]

        bad = await slack.post(slash_command("/license", "1", secret="wrong"))
        stale = await slack.post(slash_command("/license", "1", timestamp=time.time() - 600))
        assert (bad.status_code, stale.status_code) == (401, 401)


def test_view_submission_and_actions_on_views_have_slack_shapes():
    body, _ = view_submission("login", text_inputs({"creds/login": "a", "password": "b"}))
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    values = payload["view"]["state"]["values"]
    assert (
        values["creds"]["login"]["value"] == "a" and values["password"]["password"]["value"] == "b"
    )
    body, _ = block_actions(button("logout"), view={"id": "V1", "type": "home"})
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert "response_url" not in payload
