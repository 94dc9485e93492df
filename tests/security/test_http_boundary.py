"""The served bot's HTTP edge: Slack's signature is checked on the raw bytes before anything is
parsed, so an unsigned request is 401 whatever its body; a body is read in bounded time; the
number of requests served at once is capped; X-Forwarded-For counts only from named proxies.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from tests.bot_fixtures import MakeBot
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.signing import sign, slash_command

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}

DEEP_JSON = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
BODIES = {
    "deeply nested JSON": (DEEP_JSON, JSON),
    "deeply nested object": (DEEP_OBJECT, JSON),
    "deeply nested payload": (b"payload=" + b"%5B" * 100_000, FORM),
    "1 MB payload": (b"payload=" + b"x" * 1_000_000, FORM),
    "1 MiB and more": (b"token=x&text=" + b"y" * (1024 * 1024 + 10), FORM),
    "invalid UTF-8": (b"\xff\xfe\xfa\x00 command=/license&text=\xc3\x28", FORM),
    "empty": (b"", FORM),
}


def _nothing_reached(fake_altegio: FakeAltegio, fake_slack: FakeSlack) -> None:
    assert fake_altegio.requests() == []
    assert [c.method for c in fake_slack.calls() if c.method != "auth.test"] == []
    assert fake_slack.responses() == []


def _clean(log: str) -> None:
    assert "Traceback" not in log, log
    assert " ERROR " not in log, log


def _still_serving(bot: BotServer, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    body, headers = slash_command("/phone", "+44 20 7946 0958", response_url=url)
    assert httpx.post(bot.url, content=body, headers=headers, timeout=10).status_code == 200
    (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
    assert "+442079460958" in json.dumps(reply)


@pytest.mark.parametrize("name", list(BODIES))
def test_an_unsigned_request_is_401_whatever_its_body(
    name: str,
    make_bot: MakeBot,
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    bot_log: io.StringIO,
) -> None:
    bot = make_bot()
    body, headers = BODIES[name]
    forgeries = {
        "unsigned": headers,
        "badly signed": headers | sign(body, secret="not-the-signing-secret"),
        "stale": headers | sign(body, timestamp=time.time() - 3600),
        "signature for another body": headers | sign(body + b"x"),
    }
    with httpx.Client(timeout=20) as http:
        for kind, sent in forgeries.items():
            response = http.post(bot.url, content=body, headers=sent)
            assert response.status_code == 401, (kind, response.text)
    _nothing_reached(fake_altegio, fake_slack)
    _clean(bot_log.getvalue())
    _still_serving(bot, fake_slack)


@pytest.mark.parametrize("name", ["deeply nested JSON", "deeply nested object"])
def test_a_signed_but_deeply_nested_body_is_400_not_500(
    name: str,
    make_bot: MakeBot,
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    bot_log: io.StringIO,
) -> None:
    bot = make_bot()
    body, headers = BODIES[name]
    response = httpx.post(bot.url, content=body, headers=headers | sign(body), timeout=20)
    assert response.status_code == 400
    _nothing_reached(fake_altegio, fake_slack)
    _clean(bot_log.getvalue())


# ------------------------------------------------------------------------ slow clients


def _head(bot: BotServer, body: bytes, headers: dict[str, str]) -> bytes:
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{bot.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@contextmanager
def trickling(bot: BotServer, *, signed: bool = True) -> Iterator[socket.socket]:
    """A connection that sent its headers and the first bytes of a body it never finishes."""
    body, headers = slash_command("/license", "4523464")
    if not signed:
        headers = {k: v for k, v in headers.items() if not k.startswith("X-Slack")}
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=15)
    try:
        sock.sendall(_head(bot, body, headers) + body[:5])
        yield sock
    finally:
        sock.close()


def _answer(sock: socket.socket, *, trickle: bytes = b"") -> bytes:
    """Everything the server sends until it closes, trickling a byte every 0.2 s meanwhile."""
    received = b""
    sock.settimeout(0.2)
    deadline = time.monotonic() + 15
    for byte in [trickle[i : i + 1] for i in range(len(trickle))] or [b""] * 75:
        try:
            if byte:
                sock.sendall(byte)
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
        except TimeoutError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            break
        if time.monotonic() > deadline:
            break
    sock.settimeout(5)
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def test_a_client_trickling_its_body_is_cut_off(
    make_bot: MakeBot, fake_altegio: FakeAltegio, fake_slack: FakeSlack, bot_log: io.StringIO
) -> None:
    bot = make_bot(request_body_timeout=1)
    with trickling(bot) as sock:
        answer = _answer(sock, trickle=b"x" * 75)  # 15 s of trickling, were it let through
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in answer.lower()
    # Unsigned, it is refused from its headers alone, without waiting for the body.
    with trickling(bot, signed=False) as sock:
        assert _answer(sock).startswith(b"HTTP/1.1 401")
    _nothing_reached(fake_altegio, fake_slack)
    assert "cut off a request whose body took over 1 s" in bot_log.getvalue()
    _clean(bot_log.getvalue())
    _still_serving(bot, fake_slack)


@contextmanager
def holding(bot: BotServer) -> Iterator[socket.socket]:
    """A signed request the bot is serving: it has started reading the body (uvicorn said
    "100 Continue", which it does only once the app asks for the body), which never comes."""
    body, headers = slash_command("/license", "4523464")
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=30)
    try:
        sock.sendall(_head(bot, body, headers | {"Expect": "100-continue"}))
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 100"), answer
        yield sock
    finally:
        sock.close()


def test_a_request_beyond_the_cap_is_503_at_once_and_served_again_once_one_ends(
    make_bot: MakeBot, fake_slack: FakeSlack
) -> None:
    bot = make_bot(max_concurrent_requests=3, request_body_timeout=60)
    body, headers = slash_command("/phone", "+44 20 7946 0958", response_url="http://127.0.0.1:9/x")
    with ExitStack() as held:
        # Exactly the cap: all three are served (each is reading its body).
        socks = [held.enter_context(holding(bot)) for _ in range(3)]
        # One more is refused without waiting for any of them: they hold on for 60 s, the
        # client waits 10.
        with httpx.Client(timeout=10) as http:
            assert http.post(bot.url, content=body, headers=headers).status_code == 503
        socks[0].close()  # one ends: the bot serves again, up to the cap
        url = fake_slack.response_url()
        body, headers = slash_command("/phone", "+44 20 7946 0958", response_url=url)
        with httpx.Client(timeout=10) as http:
            deadline = time.monotonic() + 20  # until the bot has seen the connection go
            while (status := http.post(bot.url, content=body, headers=headers).status_code) == 503:
                assert time.monotonic() < deadline, "still refused after one request ended"
                time.sleep(0.05)
        assert status == 200
        (reply,) = fake_slack.wait_for_response_sync(url, timeout=10)
        assert "+442079460958" in json.dumps(reply)


# ------------------------------------------------------------------------ proxies


@pytest.mark.parametrize(
    ("trusted", "logged"),
    [
        (None, "from 203.0.113.9"),  # the default: a proxy on this host (127.0.0.1) is believed
        ("10.1.2.3", "from 127.0.0.1"),  # only 10.1.2.3's headers count; this request is ours
        ("", "from 127.0.0.1"),  # no proxy at all
    ],
)
def test_x_forwarded_for_counts_only_from_the_named_proxies(
    trusted: str | None, logged: str, make_bot: MakeBot, bot_log: io.StringIO
) -> None:
    bot = make_bot(**({} if trusted is None else {"forwarded_allow_ips": trusted}))
    body, headers = slash_command("/license", "4523464", secret="forged")
    headers |= {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert httpx.post(bot.url, content=body, headers=headers, timeout=10).status_code == 401
    line = next(x for x in bot_log.getvalue().splitlines() if "refused a request" in x)
    assert logged in line
