"""The download guard: where the bot token may go, size limits while streaming, content checks.

Slack's file host is stood in for by httpx.MockTransport; the end-to-end tests repeat the
important cases against the fake Slack over real HTTP.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from handlers.images.download import (
    JPEG,
    PNG,
    Downloader,
    DownloadError,
    FileGone,
    NotAnImage,
    ScopeMissing,
    TooLarge,
    host_is_trusted,
    may_carry_token,
    metadata_type,
    sniff,
)

TOKEN = "xoxb-unit-token"
HOSTS = ("slack.com", "files.slack.com", "127.0.0.1")
FILE_URL = "https://files.slack.com/files-pri/T1-F1/download/photo.jpg"
JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(2000)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(2000)

Handler = Callable[[httpx.Request], httpx.Response]


def downloader(handler: Handler, seen: list[httpx.Request]) -> Downloader:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return Downloader(transport=httpx.MockTransport(record))


async def fetch(handler: Handler, url: str = FILE_URL, max_bytes: int = 10_000):
    seen: list[httpx.Request] = []
    d = downloader(handler, seen)
    try:
        result = await d.fetch(url, token=TOKEN, trusted_hosts=HOSTS, max_bytes=max_bytes)
    finally:
        await d.aclose()
    return result, seen


async def fetch_error(handler: Handler, url: str = FILE_URL, max_bytes: int = 10_000):
    seen: list[httpx.Request] = []
    d = downloader(handler, seen)
    try:
        with pytest.raises(DownloadError) as error:
            await d.fetch(url, token=TOKEN, trusted_hosts=HOSTS, max_bytes=max_bytes)
    finally:
        await d.aclose()
    return error.value, seen


def image(content: bytes = JPEG_BYTES, content_type: str = "image/jpeg") -> Handler:
    return lambda request: httpx.Response(
        200, content=content, headers={"content-type": content_type}
    )


async def test_the_token_goes_to_slacks_file_host() -> None:
    (data, kind), seen = await fetch(image())
    assert (data, kind) == (JPEG_BYTES, JPEG)
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_redirect_to_another_host_is_followed_without_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "files.slack.com":
            return httpx.Response(302, headers={"location": "https://cdn.example.net/x.jpg"})
        return image()(request)

    (data, _), seen = await fetch(handler)
    assert data == JPEG_BYTES
    assert [r.url.host for r in seen] == ["files.slack.com", "cdn.example.net"]
    assert "authorization" in seen[0].headers
    assert "authorization" not in seen[1].headers


async def test_a_relative_redirect_on_slack_keeps_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("photo.jpg"):
            return httpx.Response(301, headers={"location": "/files-tmb/T1-F1/thumb.jpg?x=1"})
        return image()(request)

    _, seen = await fetch(handler)
    assert seen[1].url.path == "/files-tmb/T1-F1/thumb.jpg"
    assert seen[1].headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_redirect_to_plain_http_on_slack_gets_no_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"location": "http://files.slack.com/p.jpg"})
        return image()(request)

    _, seen = await fetch(handler)
    assert "authorization" not in seen[1].headers


async def test_endless_redirects_stop() -> None:
    error, seen = await fetch_error(
        lambda request: httpx.Response(302, headers={"location": FILE_URL})
    )
    assert "too many times" in str(error)
    assert len(seen) == 6


async def test_a_file_not_hosted_by_slack_is_not_fetched_at_all() -> None:
    error, seen = await fetch_error(image(), url="https://drive.example.com/photo.jpg")
    assert isinstance(error, FileGone)
    assert seen == []


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield bytes(1024)

    error, _ = await fetch_error(
        lambda request: httpx.Response(
            200, content=body(), headers={"content-length": "102400", "content-type": JPEG}
        ),
        max_bytes=10_000,
    )
    assert isinstance(error, TooLarge) and not error.retryable
    assert pulled == []


async def test_reading_stops_soon_after_the_limit_without_a_declared_length() -> None:
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield JPEG_BYTES[:4]
        for i in range(1000):
            pulled.append(i)
            yield bytes(1024)

    error, _ = await fetch_error(
        lambda request: httpx.Response(200, content=body(), headers={"content-type": JPEG}),
        max_bytes=10_000,
    )
    assert isinstance(error, TooLarge)
    assert len(pulled) <= 11


async def test_exactly_the_limit_is_accepted() -> None:
    content = JPEG_BYTES[:4] + bytes(9996)
    (data, _), _ = await fetch(image(content), max_bytes=10_000)
    assert len(data) == 10_000


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<!DOCTYPE html><html><title>Slack</title>", headers={}),
        httpx.Response(200, content=b"<html>sign in</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, content=b"\n  <!doctype html>...", headers={"content-type": JPEG}),
        httpx.Response(403, content=b"forbidden"),
    ],
)
async def test_slacks_sign_in_page_names_the_files_read_scope(response: httpx.Response) -> None:
    error, _ = await fetch_error(lambda request: response)
    assert isinstance(error, ScopeMissing) and error.retryable
    assert "`files:read`" in str(error)


@pytest.mark.parametrize("content", [b"GIF89a" + bytes(100), b"%PDF-1.7", bytes(100), b""])
async def test_bytes_that_are_no_jpeg_or_png_are_refused(content: bytes) -> None:
    error, _ = await fetch_error(image(content, "application/octet-stream"))
    assert isinstance(error, NotAnImage) and not error.retryable


async def test_png_bytes_are_reported_as_png() -> None:
    (_, kind), _ = await fetch(image(PNG_BYTES, "image/png"))
    assert kind == PNG


@pytest.mark.parametrize(
    ("status", "kind"), [(404, FileGone), (410, FileGone), (500, DownloadError)]
)
async def test_http_errors(status: int, kind: type[DownloadError]) -> None:
    error, _ = await fetch_error(lambda request: httpx.Response(status))
    assert type(error) is kind
    assert error.retryable is (status == 500)


async def test_a_dropped_connection_is_a_retryable_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    error, _ = await fetch_error(handler)
    assert type(error) is DownloadError and error.retryable
    assert TOKEN not in str(error)


async def test_one_client_serves_every_download_on_a_loop() -> None:
    d = Downloader(transport=httpx.MockTransport(image()))
    await d.fetch(FILE_URL, token=TOKEN, trusted_hosts=HOSTS, max_bytes=10_000)
    first = d._client
    await d.fetch(FILE_URL, token=TOKEN, trusted_hosts=HOSTS, max_bytes=10_000)
    assert d._client is first
    await d.aclose()


@pytest.mark.parametrize(
    ("host", "trusted"),
    [
        ("slack.com", True),
        ("files.slack.com", True),
        ("FILES.SLACK.COM.", True),
        ("a.b.slack.com", True),
        ("127.0.0.1", True),
        ("evilslack.com", False),
        ("slack.com.evil.net", False),
        ("files-slack.com", False),
        ("127.0.0.2", False),
        ("1.127.0.0.1", False),  # no "subdomains" of an IP address
        ("", False),
    ],
)
def test_trusted_hosts(host: str, trusted: bool) -> None:
    assert host_is_trusted(host, HOSTS) is trusted


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("https://files.slack.com/x", True),
        ("http://files.slack.com/x", False),  # never in the clear
        ("http://127.0.0.1:8080/x", True),  # a loopback SLACK_API_URL, as in tests
        ("https://files.slack.com.evil.net/x", False),
        ("ftp://files.slack.com/x", False),
    ],
)
def test_when_the_token_may_be_sent(url: str, carries: bool) -> None:
    assert may_carry_token(url, HOSTS) is carries


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ({"mimetype": "image/jpeg", "filetype": "jpg"}, JPEG),
        ({"mimetype": "image/png"}, PNG),
        ({"mimetype": "IMAGE/JPEG; charset=binary"}, JPEG),
        ({"filetype": "jpeg"}, JPEG),
        ({"mimetype": "image/gif", "filetype": "gif"}, None),
        ({"mimetype": "application/pdf", "filetype": "jpg"}, None),  # the mimetype decides
        ({"mimetype": "image/heic"}, None),
        ({}, None),
    ],
)
def test_metadata_type(file: dict, expected: str | None) -> None:
    assert metadata_type(file) == expected


def test_sniff() -> None:
    assert sniff(JPEG_BYTES) == JPEG
    assert sniff(PNG_BYTES) == PNG
    assert sniff(b"\xff\xd8") is None
    assert sniff(b"<html>") is None


async def test_a_compressed_body_is_refused_not_inflated() -> None:
    bomb = gzip.compress(JPEG_BYTES[:4] + bytes(5_000_000))  # ~5 KB on the wire, 5 MB inflated
    error, seen = await fetch_error(
        lambda request: httpx.Response(
            200, content=bomb, headers={"content-type": JPEG, "content-encoding": "gzip"}
        ),
        max_bytes=1_000_000,
    )
    assert not isinstance(error, TooLarge) and "compressed (gzip)" in str(error)
    assert seen[0].headers["accept-encoding"] == "identity"
