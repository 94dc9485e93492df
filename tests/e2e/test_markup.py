"""Slack markup in what people type and in what Altegio says comes back as text, end to end:
what the fake Slack receives from the served bot holds no mention, link or formatting made of
it, in the blocks or in the top-level text notifications show."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.alerts.support import OPS, alerts_in, run_sweep
from tests.bot_server import BotServer
from tests.e2e.support import ask
from tests.e2e.test_images import JPEG, link, share, thread_replies
from tests.fakes import FakeAltegio, FakeSlack, SlackSender

# What the input could have turned into: a broadcast, a mention, a channel link, a link, bold.
LIVE = re.compile(r"<!(channel|here|everyone)|<@U123|<#C1|<https?:|\*bold\*|\*Gold\*")


def mrkdwn_of(message: dict[str, Any]) -> list[str]:
    """The top-level text and every mrkdwn text in the blocks: what Slack parses."""
    found: list[str] = [str(message.get("text", ""))]

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(value["text"])
            for key, item in value.items():
                if key != "text" or isinstance(item, dict | list):
                    walk(item)

    walk(message.get("blocks") or [])
    return found


def inert(message: dict[str, Any], ours: str | None = None) -> str:
    """All the message's mrkdwn, checked to hold nothing live from the input (but `ours`, a
    pattern for the bot's own markup)."""
    texts = mrkdwn_of(message)
    for text in texts:
        assert not LIVE.search(re.sub(ours, "", text) if ours else text), text
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("command", "typed", "shown"),
    [
        ("/license", "&lt;@U123&gt;", "&lt;@U123&gt;"),  # typed as text: Slack sends entities
        ("/license", "<@U123|boss>", "&lt;@U123|boss&gt;"),  # a real mention
        ("/license", "4523464 <!channel>", "&lt;!channel&gt;"),
        ("/license", "watch <#C1|general>", "&lt;#C1|general&gt;"),
        ("/license", "*bold* <https://evil.example|x>", "bold"),
        ("/phone", "<!here> *bold*", "&lt;!here&gt;"),
        ("/altegio", "<@U123> *bold*", "&lt;@U123&gt;"),
    ],
)
async def test_command_arguments_come_back_as_text(
    slack: SlackSender, fake_slack: FakeSlack, command: str, typed: str, shown: str
) -> None:
    reply = await ask(slack, fake_slack, command, typed)
    assert shown in inert(reply)


async def test_an_altegio_plan_option_and_reason_with_markup_are_shown_as_text(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    plan = "<!here> *Gold* <https://evil.example|renew now>"
    fake_altegio.add_license(4523464, plan=plan, options=[{"id": 1, "title": "<!channel>"}])
    fake_altegio.add_license(1002)
    fake_altegio.deny(1002, message="<!everyone> *bold* <@U123> " + "x" * 3000)
    reply = await ask(slack, fake_slack, "/license", "4523464 1002")
    shown = inert(reply)
    assert (
        "&lt;!here&gt;" in reply["text"] and "&lt;!here&gt;" in reply["blocks"][0]["text"]["text"]
    )
    assert "&lt;!channel&gt;" in shown and "&lt;!everyone&gt;" in shown
    assert ":large_green_circle:" in reply["blocks"][0]["text"]["text"]  # the status stays


async def test_a_watched_plan_with_markup_stays_text_in_replies_lists_and_alerts(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="<!here> *Gold* " + "&" * 3000, days_left=5)
    for text in ("watch 1001", "watching"):
        url = fake_slack.response_url()
        await slack.command("/license", text, response_url=url, channel_id=OPS)
        (reply,) = await fake_slack.wait_for_response(url, timeout=15)
        assert "&lt;!here&gt;" in inert(reply)
    assert run_sweep(bot).posted == 1
    (alert,) = alerts_in(fake_slack, OPS)
    assert "&lt;!here&gt;" in alert["text"] and len(alert["text"]) < 500
    inert(alert)


async def test_a_caption_and_a_file_name_with_markup_come_back_as_text(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    link(bot, fake_altegio)
    # Typed as text, Slack sends `<!channel>` as entities; the parser reads it as master's id.
    event, _ = share(fake_slack, caption="master &lt;!channel&gt; *bold* location 4523464")
    await slack.event(event)
    (refusal,) = await thread_replies(fake_slack, event)
    assert "`&lt;!channel&gt;` is not a team member id" in inert(refusal.args)

    event, _ = share(
        fake_slack,
        JPEG,
        name="<!channel> *bold*.jpg",
        caption="<!channel> *bold* master 17 location 4523464",
    )
    await slack.event(event)
    (answer,) = await thread_replies(fake_slack, event)
    shown = inert(answer.args, ours=r"<https://assets\.alteg\.io/[^<>|]*\|[^<>]*>")
    assert "team member 17" in shown and "&lt;!channel&gt;" in shown
