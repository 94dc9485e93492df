"""Fetching a shared file's bytes from Slack, with the guards a bot token deserves.

- The bot token goes only to Slack's hosts (`HandlerConfig.slack_hosts`: slack.com and its
  subdomains, and the SLACK_API_URL host), over HTTPS (plain HTTP only to a loopback host, as
  in tests and local set-ups). Redirects are followed by hand so that a hop to any other host
  is made without the Authorization header.
- Size: a Content-Length over the limit is refused unread; otherwise the body is streamed and
  reading stops as soon as it passes the limit. The limit counts the bytes on the wire: a body
  with a Content-Encoding (gzip, br: a few KB can inflate to gigabytes) is refused, never
  decoded.
- Memory: a photo is held only inside a slot (`Downloader.slot`), from its download to the end
  of its upload, and a process has PHOTO_CONCURRENCY slots; other shares wait for one, holding
  nothing.
- Content: JPEG or PNG by magic numbers. Slack's HTML sign-in page (what a token without
  `files:read` gets, with HTTP 200) is recognised and named as such.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from handlers.i18n import ENGLISH, Translator

log = logging.getLogger("altegio.images")

JPEG = "image/jpeg"
PNG = "image/png"
NAMES = {JPEG: "JPEG", PNG: "PNG"}
_MIMETYPES = {"image/jpeg": JPEG, "image/jpg": JPEG, "image/pjpeg": JPEG, "image/png": PNG}
_FILETYPES = {"jpg": JPEG, "jpeg": JPEG, "png": PNG}
_REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
DOWNLOAD_SECONDS = 120.0  # a whole download, so a trickling server cannot hold a slot for ever
CONCURRENT_DOWNLOADS = 4  # connections kept per slot count's worth of downloads


class DownloadError(Exception):
    """A file that cannot be uploaded; `str()` is the sentence for the thread, in the language
    of the person who shared it (`Downloader.fetch`'s `t`).

    `retryable` says whether trying again later could help (a button is offered); `summary`
    is what the audit trail records, in English whoever shared the file.
    """

    retryable = True
    code = "download"
    summary = "could not download it from Slack"


class NotAnImage(DownloadError):
    retryable = False
    code = "not_an_image"
    summary = "not a JPEG or PNG image"


class TooLarge(DownloadError):
    retryable = False
    code = "too_large"
    summary = "too large"


class ScopeMissing(DownloadError):
    code = "files_read"
    summary = "the files:read scope is missing"


class FileGone(DownloadError):
    retryable = False
    code = "gone"
    summary = "the file is gone from Slack"


def metadata_type(file: Mapping[str, Any]) -> str | None:
    """JPEG or PNG as Slack describes the file (mimetype, else filetype); None for others."""
    mimetype = str(file.get("mimetype") or "").split(";")[0].strip().lower()
    if mimetype:
        return _MIMETYPES.get(mimetype)
    return _FILETYPES.get(str(file.get("filetype") or "").strip().lower())


def sniff(data: bytes) -> str | None:
    """JPEG or PNG by the bytes' magic numbers; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def looks_like_html(data: bytes, content_type: str = "") -> bool:
    if "html" in content_type.lower():
        return True
    head = data[:256].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def host_is_trusted(host: str, trusted: Iterable[str]) -> bool:
    """Exact host, or a subdomain of a trusted domain name (never of an IP address)."""
    host = host.lower().rstrip(".")
    for name in trusted:
        name = name.lower().rstrip(".")
        if not name:
            continue
        if host == name or (not _is_ip(name) and host.endswith("." + name)):
            return True
    return False


def may_carry_token(url: str, trusted: Iterable[str]) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host_is_trusted(host, trusted):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def blocks_safe(word: str) -> str:
    """A header value fit to quote in a message: letters, digits and dashes, at most 20."""
    return "".join(c for c in word if c.isalnum() or c in "-_")[:20] or "unknown"


def _size_text(size: int, t: Translator) -> str:
    if size >= 1024 * 1024:
        return t._("%(size)s MB", size=t.format_number(round(size / (1024 * 1024), 1)))
    return t._("%(size)s KB", size=t.format_number(size // 1024))


def too_large(size: int | None, limit: int, t: Translator = ENGLISH) -> TooLarge:
    if size:
        return TooLarge(
            t._(
                "it is larger (%(size)s) than the %(limit)s I accept for Altegio. "
                "Share a smaller copy of the photo.",
                size=_size_text(size, t),
                limit=_size_text(limit, t),
            )
        )
    return TooLarge(
        t._(
            "it is larger than the %(limit)s I accept for Altegio. "
            "Share a smaller copy of the photo.",
            limit=_size_text(limit, t),
        )
    )


class Downloader:
    """One httpx client per event loop, made on first use, and the slots photos are held in."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    def slot(self, count: int) -> asyncio.Semaphore:
        """This loop's photo slots (`count` of them, fixed at first use): hold one while a
        photo's bytes are in memory, so memory is bounded by settings, not by traffic."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots_loop = loop
            self._slots = asyncio.Semaphore(max(1, count))
        return self._slots

    def _client_for_this_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._loop is not loop:
            self._loop = loop
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                timeout=httpx.Timeout(30.0, connect=10.0),
                limits=httpx.Limits(
                    max_connections=CONCURRENT_DOWNLOADS * 2,
                    # As many as may be open: httpcore (1.0.9) closes an idle connection whenever
                    # the pool holds more than this many, busy ones included, so a lower number
                    # made nearly every download under load open a new connection.
                    max_keepalive_connections=CONCURRENT_DOWNLOADS * 2,
                    keepalive_expiry=15.0,
                ),
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(
        self,
        url: str,
        *,
        token: str | None,
        trusted_hosts: Iterable[str],
        max_bytes: int,
        t: Translator = ENGLISH,
    ) -> tuple[bytes, str]:
        """The file's bytes and their type (JPEG or PNG), or a DownloadError saying why not,
        in `t`'s language.

        Call it holding a `slot`: the bytes returned count against it until they are dropped.
        """
        trusted = tuple(trusted_hosts)
        if not may_carry_token(url, trusted):
            # Only files Slack itself hosts are fetched: the link came from Slack, and a link to
            # anywhere else (an external file) is not ours to download with the bot's token.
            raise FileGone(t._("it is not stored in Slack, so I can't download it."))
        client = self._client_for_this_loop()
        try:
            async with asyncio.timeout(DOWNLOAD_SECONDS):
                data, content_type = await self._follow(
                    client, url, token=token, trusted=trusted, max_bytes=max_bytes, t=t
                )
        except TimeoutError:
            raise DownloadError(t._("Slack took too long to send it.")) from None
        except httpx.HTTPError as exc:
            log.warning("file download failed: %s", type(exc).__name__)
            raise DownloadError(
                t._("I could not download it from Slack (%(error)s).", error=type(exc).__name__)
            ) from None
        if looks_like_html(data, content_type):
            raise ScopeMissing(
                t._(
                    "Slack sent its sign-in page instead of the file: this app needs the "
                    "`files:read` scope. Ask a workspace admin to add it (or to reinstall the "
                    "app if it was added already), then try again."
                )
            )
        kind = sniff(data)
        if kind is None:
            raise NotAnImage(t._("its contents are not a JPEG or PNG image."))
        return data, kind

    async def _follow(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        token: str | None,
        trusted: tuple[str, ...],
        max_bytes: int,
        t: Translator,
    ) -> tuple[bytes, str]:
        for _ in range(MAX_REDIRECTS + 1):
            headers = {"Accept": "image/jpeg, image/png, */*;q=0.5", "Accept-Encoding": "identity"}
            if token and may_carry_token(url, trusted):
                headers["Authorization"] = f"Bearer {token}"
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise DownloadError(t._("Slack redirected the download nowhere."))
                    url = urljoin(url, location)
                    if urlsplit(url).scheme not in ("http", "https"):
                        raise DownloadError(
                            t._("Slack redirected the download to an unusable address.")
                        )
                    log.info("file download redirected to %s", urlsplit(url).hostname)
                    continue
                if response.status_code in (404, 410):
                    raise FileGone(t._("Slack no longer has the file (it may have been deleted)."))
                if response.status_code in (401, 403):
                    raise ScopeMissing(
                        t._(
                            "Slack refused the download (HTTP %(status)s): this app needs the "
                            "`files:read` scope and to be in this channel.",
                            status=response.status_code,
                        )
                    )
                if response.status_code != 200:
                    raise DownloadError(
                        t._(
                            "Slack answered HTTP %(status)s to the download; "
                            "try again in a moment.",
                            status=response.status_code,
                        )
                    )
                content_type = response.headers.get("content-type", "")
                if looks_like_html(b"", content_type):
                    return b"", content_type  # the sign-in page: no need to read it
                encoding = response.headers.get("content-encoding", "").strip().lower()
                if encoding not in ("", "identity"):
                    raise DownloadError(
                        t._(
                            "Slack sent it compressed (%(encoding)s), which an image never "
                            "needs; try again in a moment.",
                            encoding=blocks_safe(encoding),
                        )
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise too_large(int(declared), max_bytes, t)
                body = bytearray()
                async for chunk in response.aiter_bytes():  # no Content-Encoding: as sent
                    body += chunk
                    if len(body) > max_bytes:
                        raise too_large(None, max_bytes, t)
                return bytes(body), content_type
        raise DownloadError(t._("Slack redirected the download too many times."))
