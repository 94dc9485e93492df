"""Helpers shared by the fault, bad-input and security suites: ask, read and judge replies."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from tests.fakes import FakeSlack, SlackSender

# What must never reach a user: Python's own words for a crash, or our internals' names.
_LEAKS = re.compile(
    r"Traceback|File \"|\bException\b|Error\(|httpx|aiohttp|sqlalchemy|psycopg|sqlite3|"
    r"\b(?:Unavailable|RateLimited|StoreUnavailable|KeyError|ValueError|TypeError)\b"
)
UNEXPECTED = "Something went wrong on my side"


def text_of(message: Any) -> str:
    """Every piece of text in a reply or a Web API message: text, blocks, fields, elements."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message)
    return "\n".join(found)


def assert_plain_private(reply: dict[str, Any], typed: str = "") -> str:
    """The reply is private to the user and reads as a sentence, not as a crash.

    `typed`: what the user sent, which a reply may quote back ("`RateLimited` is not …").
    """
    assert reply.get("response_type") == "ephemeral", reply
    shown = text_of(reply)
    assert shown.strip(), reply
    leaks = [m.group(0) for m in _LEAKS.finditer(json.dumps(reply)) if m.group(0) not in typed]
    assert not leaks, f"internal detail {leaks[0]!r} shown to the user: {shown!r}"
    return shown


async def ask(
    slack: SlackSender,
    fake_slack: FakeSlack,
    command: str,
    text: str,
    *,
    timeout: float = 15,  # noqa: ASYNC109 (a deadline for the reply, not a cancel scope)
    settle: float = 0.1,
    **kwargs: Any,
) -> dict[str, Any]:
    """Send a signed command; the HTTP ack must be 200 and exactly one private reply follow."""
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url, **kwargs)
    assert response.status_code == 200, response.text
    (reply,) = await fake_slack.wait_for_response(url, timeout=timeout)
    await asyncio.sleep(settle)  # a second (duplicate) reply would have arrived by now
    assert len(fake_slack.responses(url)) == 1, fake_slack.responses(url)
    assert_plain_private(reply)
    return reply


def no_public_messages(fake_slack: FakeSlack) -> bool:
    """Nothing was posted to a channel for everyone to see."""
    return fake_slack.calls("chat.postMessage") == [] and fake_slack.calls("chat.update") == []
