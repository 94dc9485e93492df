"""Requests that are not what Slack sends, or not from Slack at all: each gets a plain HTTP
answer (413, 400, 401, or an ack for a click nobody listens for), reaches neither Altegio nor
Slack, and leaves the bot serving the next request.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.account.messages import LOGIN_CALLBACK, LOGOUT_ACTION
from handlers.blocks import LOGIN_ACTION
from tests.badinput.inproc import InProcessBot
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import (
    SIGNING_SECRET,
    block_actions,
    button,
    interactive,
    sign,
    slash_command,
)
from tests.faults.support import UNEXPECTED, assert_plain_private, text_of

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _signed_form(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw, FORM | sign(raw)


def _nothing_reached(fake_altegio: FakeAltegio, fake_slack: FakeSlack) -> None:
    assert fake_altegio.requests() == []
    # auth.test is Bolt learning who the bot is, once per process: not an answer to anyone.
    assert [c.method for c in fake_slack.calls() if c.method != "auth.test"] == []
    assert fake_slack.responses() == []


async def _still_serving(slack: SlackSender, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    assert (await slack.command("/phone", "+44 20 7946 0958", response_url=url)).status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "+442079460958" in text_of(reply)


# ------------------------------------------------------------------------ over real HTTP


async def test_an_oversized_body_is_413_and_reaches_nothing(
    bot: BotServer, slack: SlackSender, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    padding = "x" * (2 * 1024 * 1024)
    body, headers = slash_command("/license", "4523464", padding=padding)
    assert (await slack.post((body, headers))).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is while reading
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(bot.url, content=chunks(), headers=headers)
    assert response.status_code == 413
    _nothing_reached(fake_altegio, fake_slack)
    await _still_serving(slack, fake_slack)


async def test_malformed_bodies_are_400_when_signed_401_when_not_and_reach_nothing(
    slack: SlackSender, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    bodies = [
        b"payload=" + quote('{"type": "block_actions", "actions": [').encode(),  # invalid JSON
        b"payload=%5B1%2C2%5D",  # JSON, but not an object
        b"payload=",  # empty
        b"\xff\xfe\x00 not UTF-8",
    ]
    for raw in bodies:
        assert (await slack.post(_signed_form(raw))).status_code == 400, raw
        forged = (raw, FORM | sign(raw, secret="not-the-secret"))
        assert (await slack.post(forged)).status_code == 401, raw
    as_json = b'["an", "array"]'
    headers = {"Content-Type": "application/json"}
    assert (await slack.post((as_json, headers | sign(as_json)))).status_code == 400
    assert (await slack.post((b"{not json", headers | sign(b"{not json")))).status_code == 400
    _nothing_reached(fake_altegio, fake_slack)
    await _still_serving(slack, fake_slack)


async def test_the_word_payload_in_a_command_is_just_a_word(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    url = fake_slack.response_url()
    response = await slack.command("/phone", "payload", response_url=url, channel_name="payload")
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "`payload` doesn't look like a phone number" in text_of(reply)


async def test_an_unknown_action_is_acked_and_nothing_is_sent(
    slack: SlackSender, fake_altegio: FakeAltegio, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()
    response = await slack.action(button("no-such-action", "42"), response_url=url)
    assert response.status_code == 200 and response.text == ""
    link_button = {**button("open_in_altegio"), "url": "https://app.alteg.io/"}
    assert (await slack.action(link_button, response_url=url)).status_code == 200
    _nothing_reached(fake_altegio, fake_slack)


# ------------------------------------------------------------------------ in-process, many


signatures = st.one_of(
    st.tuples(
        st.just("secret"), st.text(min_size=1, max_size=30).filter(lambda s: s != SIGNING_SECRET)
    ),
    st.tuples(st.just("age"), st.integers(min_value=301, max_value=10**6)),
    st.tuples(st.just("future"), st.integers(min_value=301, max_value=10**6)),
    st.tuples(st.just("tampered"), st.text(min_size=1, max_size=20)),
    st.tuples(st.just("missing"), st.sampled_from(["timestamp", "signature", "both"])),
    st.tuples(
        st.just("garbled"),
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
    ),
)


@PROPERTY
@given(forgery=signatures, text=st.sampled_from(["4523464", "+44 20 7946 0958", "whoami"]))
async def test_forged_stale_or_missing_signatures_are_401_and_reach_nothing(
    inproc: InProcessBot,
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    forgery: tuple[str, Any],
    text: str,
) -> None:
    kind, value = forgery
    command = {"4523464": "/license", "whoami": "/altegio"}.get(text, "/phone")
    url = fake_slack.response_url()
    if kind == "secret":
        body, headers = slash_command(command, text, response_url=url, secret=value)
    elif kind in ("age", "future"):
        when = time.time() + (value if kind == "future" else -value)
        body, headers = slash_command(command, text, response_url=url, timestamp=when)
    else:
        body, headers = slash_command(command, text, response_url=url)
        if kind == "tampered":  # signed, then changed on the way
            body = body.replace(b"text=", b"text=" + quote(value).encode() + b"+", 1)
        elif kind == "garbled":
            headers["X-Slack-Signature"] = value
        else:
            drop = {"timestamp": ["X-Slack-Request-Timestamp"], "signature": ["X-Slack-Signature"]}
            for name in drop.get(value, ["X-Slack-Request-Timestamp", "X-Slack-Signature"]):
                headers.pop(name)
    response = await inproc.post((body, headers))
    assert response.status_code == 401
    _nothing_reached(fake_altegio, fake_slack)


def _action_payload(
    action_id: str, value: Any, extra: dict[str, Any], response_url: str
) -> dict[str, Any]:
    body, _ = block_actions(button("x"), response_url=response_url)
    payload = json.loads(dict(__import__("urllib.parse").parse.parse_qsl(body.decode()))["payload"])
    payload["actions"] = [{**button(action_id), "value": value}]
    payload.update(extra)
    return payload


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KNOWN_ACTIONS = [LOGIN_ACTION, LOGOUT_ACTION, "images_retry"]


@PROPERTY
@given(
    action_id=st.one_of(st.sampled_from(KNOWN_ACTIONS), st.text(min_size=1, max_size=40)),
    value=json_values,
    extra=st.dictionaries(
        st.sampled_from(["response_url", "message", "container", "state", "channel", "view"]),
        json_values,
        max_size=2,
    ),
)
async def test_clicks_with_any_action_id_and_value_never_crash(
    inproc: InProcessBot,
    fake_slack: FakeSlack,
    action_id: str,
    value: Any,
    extra: dict[str, Any],
) -> None:
    url = fake_slack.response_url()
    if isinstance(extra.get("response_url"), str):
        extra["response_url"] = url  # a string, but never a URL off this machine
    payload = _action_payload(action_id, value, extra, url)
    calls_before = len(fake_slack.calls())
    response = await inproc.post(interactive(payload))
    assert response.status_code in (200, 400), (response.status_code, response.text)
    for reply in fake_slack.responses(url):
        assert UNEXPECTED not in assert_plain_private(reply)
    for call in fake_slack.calls()[calls_before:]:
        assert UNEXPECTED not in text_of(call.args), call


@PROPERTY
@given(
    callback=st.one_of(st.just(LOGIN_CALLBACK), st.text(min_size=1, max_size=30)),
    values=st.dictionaries(st.text(max_size=10), json_values, max_size=3),
    metadata=st.one_of(st.text(max_size=60), json_values.map(json.dumps)),
)
async def test_view_submissions_with_any_state_never_crash(
    inproc: InProcessBot, fake_altegio: FakeAltegio, callback: str, values: Any, metadata: str
) -> None:
    from tests.fakes.signing import view_submission

    response = await inproc.post(view_submission(callback, values, private_metadata=metadata))
    assert response.status_code in (200, 404), (response.status_code, response.text)
    if response.status_code == 200 and response.text:
        answer = response.json()
        assert answer.get("response_action") in ("errors", "update", "clear", "push")
        assert UNEXPECTED not in json.dumps(answer)
    # a form without a login and a password is never sent to Altegio
    assert fake_altegio.requests("/auth") == [] or callback == LOGIN_CALLBACK


async def test_form_encoded_payload_field_order_and_extra_fields_do_not_matter(
    inproc: InProcessBot, fake_slack: FakeSlack
) -> None:
    payload = _action_payload("no-such-action", "1", {}, fake_slack.response_url())
    raw = urlencode({"token": "x", "payload": json.dumps(payload), "extra": "payload"}).encode()
    assert (await inproc.post(_signed_form(raw))).status_code == 200
