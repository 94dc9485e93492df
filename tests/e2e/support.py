"""Helpers for the end-to-end tests: send a command, read the private reply's text."""

from __future__ import annotations

from tests.fakes import FakeSlack, SlackSender


def text_of(reply: dict) -> str:
    parts = [reply.get("text", "")]
    for block in reply.get("blocks", []):
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(str(p) for p in parts)


async def ask(slack: SlackSender, fake_slack: FakeSlack, command: str, text: str) -> dict:
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    return reply
