"""The bot token goes to Slack's hosts only: a file download that is redirected elsewhere,
however many hops and back, never carries it off Slack's hosts (in any header or the URL)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from handlers.images.download import Downloader, DownloadError, host_is_trusted, may_carry_token

TOKEN = "xoxb-redirect-test-token"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 4 + b"\xff\xd9"


def _second_loopback() -> str | None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
        return "127.0.0.2"
    except OSError:
        return None


@dataclass
class Hops:
    """Two loopback hosts: `slack` (trusted) and `elsewhere`; routes redirect as told."""

    slack: str = ""
    elsewhere: str = ""
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def hops() -> AsyncIterator[Hops]:
    other = _second_loopback()
    if other is None:
        pytest.skip("this system routes only 127.0.0.1")
    state = Hops()

    async def route(request: web.Request) -> web.StreamResponse:
        state.seen.append((request.host.split(":")[0], request.path_qs, dict(request.headers)))
        step = request.match_info["step"]
        if step == "file":
            return web.Response(body=JPEG, content_type="image/jpeg")
        where, _, rest = step.partition("-")
        base = state.slack if where == "s" else state.elsewhere
        raise web.HTTPFound(f"{base}/{rest or 'file'}")

    app = web.Application()
    app.router.add_get("/{step}", route)
    runner = web.AppRunner(app)
    await runner.setup()
    sites = [web.TCPSite(runner, host, 0) for host in ("127.0.0.1", other)]
    for site in sites:
        await site.start()
    ports = [s._server.sockets[0].getsockname()[1] for s in sites]  # type: ignore[union-attr]
    state.slack = f"http://127.0.0.1:{ports[0]}"
    state.elsewhere = f"http://{other}:{ports[1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "path",
    [
        "e-file",  # Slack -> elsewhere
        "s-e-file",  # Slack -> Slack -> elsewhere
        "e-s-file",  # Slack -> elsewhere -> back to Slack
        "e-e-e-file",  # Slack -> elsewhere, hopping there
    ],
)
async def test_the_token_never_follows_a_redirect_off_slacks_hosts(hops: Hops, path: str) -> None:
    downloader = Downloader()
    try:
        content, _ = await downloader.fetch(
            f"{hops.slack}/{path}", token=TOKEN, trusted_hosts=("127.0.0.1",), max_bytes=10**6
        )
    except DownloadError:
        content = b""  # too many hops is a refusal, also fine: the requests are what we judge
    finally:
        await downloader.aclose()
    assert content in (JPEG, b"")
    assert hops.seen[0][2].get("Authorization") == f"Bearer {TOKEN}"
    off_slack = [seen for seen in hops.seen if seen[0] != "127.0.0.1"]
    assert off_slack, "the redirect left Slack's host"
    for _host, path_qs, headers in off_slack:
        assert "Authorization" not in headers and "Cookie" not in headers
        assert TOKEN not in path_qs and all(TOKEN not in v for v in headers.values())


async def test_a_link_that_is_not_on_slacks_hosts_is_not_fetched_at_all(hops: Hops) -> None:
    downloader = Downloader()
    try:
        with pytest.raises(DownloadError):
            await downloader.fetch(
                f"{hops.elsewhere}/file", token=TOKEN, trusted_hosts=("127.0.0.1",), max_bytes=10**6
            )
    finally:
        await downloader.aclose()
    assert hops.seen == []


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("https://files.slack.com/files-pri/T1-F1/a.jpg", True),
        ("https://slack.com/x", True),
        ("https://team.slack.com/x", True),
        ("http://files.slack.com/x", False),  # never in clear text off this machine
        ("https://files.slack.com.evil.example/x", False),
        ("https://evilslack.com/x", False),
        ("https://slack.com@evil.example/x", False),
        ("https://evil.example/files.slack.com", False),
        ("https://evil.example/?h=files.slack.com", False),
        ("https://FILES.SLACK.COM./x", True),
    ],
)
def test_which_links_may_carry_the_token(url: str, carries: bool) -> None:
    assert may_carry_token(url, ("slack.com", "files.slack.com")) is carries


def test_an_ip_address_is_trusted_exactly_never_as_a_suffix() -> None:
    assert host_is_trusted("127.0.0.1", ("127.0.0.1",))
    assert not host_is_trusted("10.127.0.0.1", ("127.0.0.1",))
