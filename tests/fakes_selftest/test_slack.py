"""The fake Slack Web API through slack_sdk's own async client, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import BOT_TOKEN, FakeSlack


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


async def test_calls_are_answered_and_recorded(fake_slack, client):
    assert (await client.auth_test())["user_id"] == "U0BOT"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    posted = await client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    assert posted["ok"] and posted["channel"] == "C1" and posted["ts"]
    await client.chat_update(channel="C1", ts=posted["ts"], text="edited")
    await client.reactions_add(channel="C1", timestamp=posted["ts"], name="white_check_mark")
    info = await client.conversations_info(channel="C1")
    assert info["channel"]["id"] == "C1"
    call = (await fake_slack.wait_for("chat.postMessage"))[0]
    assert call.token == BOT_TOKEN and call.args["blocks"] == blocks and call.ok
    assert fake_slack.messages[0]["text"] == "edited"
    assert fake_slack.reactions == [
        {"channel": "C1", "timestamp": posted["ts"], "name": "white_check_mark"}
    ]
    assert [c.method for c in fake_slack.calls()] == [
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "reactions.add",
        "conversations.info",
    ]


async def test_form_encoded_calls_decode_their_json_fields(fake_slack):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Log in"}, "blocks": []}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            fake_slack.api_url + "views.open",
            data={"trigger_id": "1.2.3", "view": json.dumps(view)},
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        )
    assert response.json()["view"]["title"]["text"] == "Log in"
    assert fake_slack.calls("views.open")[0].args["view"] == view


async def test_a_429_is_retried_by_slack_sdk(fake_slack):
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=fake_slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.rate_limit("chat.postMessage", retry_after=0)
    response = await client.chat_postMessage(channel="C1", text="alert")
    assert response["ok"]
    attempts = fake_slack.calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].record.response_body and fake_slack.calls("chat.postMessage", ok=True)


async def test_errors_server_failures_and_unknown_methods(fake_slack, client):
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="x")
    assert refused.value.response["error"] == "not_in_channel"
    fake_slack.fail("views.publish", status=503)
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("nope.never")
    assert unknown.value.response["error"] == "unknown_method"
    bad = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as auth:
        await bad.auth_test()
    assert auth.value.response["error"] == "invalid_auth"


async def test_trigger_ids_are_single_use(fake_slack, client):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    opened = await client.views_open(trigger_id="t-1", view=view)
    updated = await client.views_update(view_id=opened["view"]["id"], view=view)
    assert updated["view"]["id"] == opened["view"]["id"]
    with pytest.raises(SlackApiError) as again:
        await client.views_open(trigger_id="t-1", view=view)
    assert again.value.response["error"] == "exchanged_trigger_id"


async def test_response_urls_can_be_awaited_from_async_and_sync_code(fake_slack):
    url = fake_slack.response_url()
    seen: list[object] = []
    waiter = threading.Thread(
        target=lambda: seen.extend(fake_slack.wait_for_response_sync(url, count=2))
    )
    waiter.start()
    async with httpx.AsyncClient() as http:
        await http.post(url, json={"text": "one"})
        await http.post(fake_slack.response_url(), json={"text": "someone else's"})
        assert await fake_slack.wait_for_response(url) == [{"text": "one"}]
        await http.post(url, json={"text": "two"})
    await asyncio.to_thread(waiter.join, 5)
    assert seen == [{"text": "one"}, {"text": "two"}]
    with pytest.raises(TimeoutError):
        await fake_slack.wait_for_response(url, count=3, timeout=0.05)


async def test_file_downloads_need_the_bot_token(fake_slack, client):
    jpeg = b"\xff\xd8\xff" + b"x" * 100
    file = fake_slack.add_file(jpeg, "portrait.jpg")
    assert file["mimetype"] == "image/jpeg" and file["filetype"] == "jpg"
    assert file["size"] == len(jpeg)
    assert (await client.files_info(file=file["id"]))["file"]["id"] == file["id"]
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(file["url_private_download"])
        assert anonymous.status_code == 200 and "text/html" in anonymous.headers["content-type"]
        signed_in = await http.get(
            file["url_private_download"], headers={"Authorization": f"Bearer {BOT_TOKEN}"}
        )
        assert signed_in.content == jpeg
        no_scope = fake_slack.add_file(jpeg, "a.jpg", login_page=True)
        page = await http.get(
            no_scope["url_private_download"], headers={"Authorization": f"Bearer {BOT_TOKEN}"}
        )
        assert page.text.startswith("<!DOCTYPE html>")


async def test_redirects_leave_the_host(fake_slack):
    file = fake_slack.add_file(b"\x89PNG-bytes", "a.png", redirect=True)
    async with httpx.AsyncClient(follow_redirects=True) as http:
        response = await http.get(
            file["url_private_download"], headers={"Authorization": f"Bearer {BOT_TOKEN}"}
        )
    assert response.content == b"\x89PNG-bytes"
    first, second = fake_slack.downloads(file["id"])
    assert first.authorization == f"Bearer {BOT_TOKEN}"
    assert second.host != first.host and second.authorization is None


def test_sync_wait_and_private_instances():
    with FakeSlack(bot_token="xoxb-other") as fake:
        done = httpx.post(
            fake.api_url + "chat.postMessage",
            data={"channel": "C9", "text": "t"},
            headers={"Authorization": "Bearer xoxb-other"},
        )
        assert done.json()["ok"]
        assert fake.wait_for_sync("chat.postMessage", channel="C9")[0].args["text"] == "t"


async def test_refuse_blocks_refuses_the_next_payloads_with_blocks_only(fake_slack, client):
    section = [{"type": "section", "text": {"type": "mrkdwn", "text": "fits"}}]
    fake_slack.refuse_blocks("msg_too_long", times=2)
    await client.chat_postMessage(channel="C1", text="text alone goes through")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="hi", blocks=section)
    assert refused.value.response["error"] == "msg_too_long"
    url = fake_slack.response_url()
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, json={"text": "hi", "blocks": section})
        assert (answer.status_code, answer.text) == (400, "msg_too_long")
        assert (await http.post(url, json={"text": "hi", "blocks": section})).status_code == 200
    assert [m["text"] for m in fake_slack.messages] == ["text alone goes through"]
    assert len(fake_slack.refused_responses) == 1 and len(fake_slack.responses(url)) == 1
