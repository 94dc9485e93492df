"""Whatever people type after /license, /phone and /altegio: never a crash, never a stack trace,
always exactly one private answer (or, for `/altegio login`, the login form).

Property tests run in-process against the real app with signature checks on; a smaller sample
goes over real HTTP to the served bot.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.badinput.inproc import InProcessBot
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import slash_command
from tests.faults.support import UNEXPECTED, assert_plain_private

# Words the handlers give meaning to, and the shapes Slack and people put around them.
WORDS = [
    "help",
    "?",
    "--help",
    "watch",
    "unwatch",
    "watching",
    "login",
    "logout",
    "whoami",
    "4523464",
    "1001",
    "0",
    "-1",
    "007",
    "12ab",
    "1.5",
    "1e3",
    "0x10",
    "9" * 13,
    "9" * 40,
    "1,2",
    "1;2",
    ",,",
    "٣٤٥",
    "１２３",
    "²",
    "payload",
    "payload=1",
    "token=x",
    "%00",
    "&amp;",
    "+44 20 7946 0958",
    "+442079460958",
    "0044 20 7946 0958",
    "<tel:+442079460958|+44 20 7946 0958>",
    "<tel:>",
    "+",
    "++44",
    "+1 (202) 555-0100",
    "ext. 12",
    "`",
    "```",
    "*bold*",
    "_it_",
    "~s~",
    "<@U0OTHER>",
    "<!channel>",
    "<#C123|general>",
    "<https://example.com|link>",
    "\u200b",
    "\u202e",
    "é",
    "🙂",
    "\\",
    "'",
    '"',
    "'; DROP TABLE accounts; --",
    "None",
    "null",
    "{}",
    "[]",
    "\t",
    "\n",
    "\r\n",
]
word = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
texts = st.one_of(
    st.lists(word, max_size=14).map(" ".join),
    st.text(max_size=200),
    st.text(alphabet="0123456789 ,;+-", max_size=60),
)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _answer_to(
    inproc: InProcessBot, fake_slack: FakeSlack, command: str, text: str
) -> dict[str, Any] | None:
    """The one reply to a signed command (None when it opened the login form instead)."""
    url = fake_slack.response_url()
    trigger = f"1.2.{abs(hash((command, text)))}-{len(fake_slack.calls('views.open'))}"
    response = await inproc.post(slash_command(command, text, response_url=url, trigger_id=trigger))
    assert response.status_code == 200, (text, response.status_code, response.text)
    assert response.text == "", "the ack carries no content: answers are private replies"
    replies = fake_slack.responses(url)
    opened = fake_slack.calls("views.open", trigger_id=trigger)
    if opened and not replies:
        return None
    assert len(replies) == 1, (text, replies)
    return replies[0]


def _judge(reply: dict[str, Any] | None, text: str) -> None:
    if reply is None:
        return
    shown = assert_plain_private(reply, typed=text)
    assert UNEXPECTED not in shown, f"an unexpected error for {text!r}"


@PROPERTY
@given(text=texts)
async def test_license_text(inproc: InProcessBot, fake_slack: FakeSlack, text: str) -> None:
    _judge(await _answer_to(inproc, fake_slack, "/license", text), text)
    assert fake_slack.calls("chat.postMessage") == []


@PROPERTY
@given(text=texts)
async def test_phone_text(inproc: InProcessBot, fake_slack: FakeSlack, text: str) -> None:
    _judge(await _answer_to(inproc, fake_slack, "/phone", text), text)


@PROPERTY
@given(text=texts)
async def test_altegio_text(inproc: InProcessBot, fake_slack: FakeSlack, text: str) -> None:
    reply = await _answer_to(inproc, fake_slack, "/altegio", text)
    _judge(reply, text)
    if reply is None:
        assert text.split()[0].lower() == "login"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(["/license", "/phone", "/altegio"]), text=texts)
async def test_over_real_http(
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    command: str,
    text: str,
) -> None:
    if command == "/altegio" and text.split()[:1] and text.split()[0].lower() == "login":
        text = "whoami " + text
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url)
    assert response.status_code == 200 and response.text == ""
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    _judge(reply, text)
