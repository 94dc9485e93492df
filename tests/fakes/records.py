"""What the fakes received, and a thread-safe journal that tests can wait on.

Requests are recorded on the server's thread and read from the test's thread (or its event
loop), so every list sits behind a lock, and waiting works both blocking and as a coroutine.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

T = TypeVar("T")


@dataclass
class UploadedFile:
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class RecordedRequest:
    method: str
    path: str  # decoded path, e.g. "/api/v1/validation/validate_phone/+4420..."
    raw_path: str  # as sent, with query and percent-encoding, e.g. ".../%2B4420...?x=1"
    host: str
    headers: dict[str, str]  # lower-cased names; `raw_headers` keeps repeats and order
    raw_headers: list[tuple[str, str]]
    query: dict[str, str]
    body: bytes
    content_type: str
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    status: int | None = None  # None while in flight, or when the connection was dropped
    dropped: bool = False
    response_body: bytes = b""

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def partner_token(self) -> str | None:
        """The partner token of an Altegio header `Bearer <partner>[, User <user>]`."""
        return parse_altegio_authorization(self.authorization)[0]

    @property
    def user_token(self) -> str | None:
        return parse_altegio_authorization(self.authorization)[1]


# aiohttp >= 3.12 prefers typed request keys; older versions take a plain string.
RECORD_KEY: Any = (
    web.RequestKey("record", RecordedRequest) if hasattr(web, "RequestKey") else "record"
)


def record_of(request: web.Request) -> RecordedRequest:
    """The recording of `request`, made by the fakes' middleware before any handler runs."""
    return request[RECORD_KEY]


def parse_altegio_authorization(value: str | None) -> tuple[str | None, str | None]:
    """(partner, user) from `Bearer P, User U`; a repeated or unknown part makes it unusable."""
    if not value:
        return None, None
    found: dict[str, str] = {}
    for part in value.split(","):
        scheme, _, token = part.strip().partition(" ")
        scheme = scheme.lower()
        if scheme not in ("bearer", "user") or scheme in found or not token.strip():
            return None, None
        found[scheme] = token.strip()
    return found.get("bearer"), found.get("user")


async def record_request(request: web.Request) -> RecordedRequest:
    body = await request.read()
    ctype = request.content_type or ""
    record = RecordedRequest(
        method=request.method,
        path=request.path,
        raw_path=request.raw_path,
        host=request.host,
        headers={k.lower(): v for k, v in request.headers.items()},
        raw_headers=[(k, v) for k, v in request.headers.items()],
        query=dict(request.query),
        body=body,
        content_type=ctype,
    )
    if ctype == "application/json" or (body[:1] in (b"{", b"[") and not ctype.startswith("multi")):
        try:
            record.json = json.loads(body)
        except ValueError:
            record.json = None
    elif ctype == "application/x-www-form-urlencoded":
        record.form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif ctype == "multipart/form-data":
        boundary = _boundary(request.headers.get("Content-Type", ""))
        if boundary:
            record.form, record.files = parse_multipart(body, boundary)
    return record


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    return match.group(1) if match else None


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Fields and files of a multipart/form-data body, byte for byte."""
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"--" + boundary.encode()
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'(?<![a-z*])name="([^"]*)"', disposition)
        if not name_match:
            continue
        file_match = re.search(r'filename="([^"]*)"', disposition)
        if file_match or "content-type" in headers:
            files[name_match.group(1)] = UploadedFile(
                filename=file_match.group(1) if file_match else None,
                content_type=headers.get("content-type"),
                content=content,
            )
        else:
            fields[name_match.group(1)] = content.decode("utf-8", "replace")
    return fields, files


class Journal(Generic[T]):
    """An append-only list shared between the server thread and tests."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._cond = threading.Condition()

    def append(self, item: T) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def items(self, where: Callable[[T], bool] | None = None) -> list[T]:
        with self._cond:
            return [i for i in self._items if where is None or where(i)]

    def clear(self) -> None:
        with self._cond:
            self._items.clear()

    def wait(
        self, where: Callable[[T], bool] | None, count: int, timeout: float, what: str = "items"
    ) -> list[T]:
        """Block until `count` matching items exist; return all matching ones."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [i for i in self._items if where is None or where(i)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(what, count, found, timeout))
                self._cond.wait(remaining)

    async def wait_async(
        self,
        where: Callable[[T], bool] | None,
        count: int,
        timeout: float,  # noqa: ASYNC109 (a deadline, not a cancel scope)
        what: str = "items",
    ) -> list[T]:
        # Polling keeps this independent of which loop the test runs and of the server thread.
        deadline = time.monotonic() + timeout
        while True:
            found = self.items(where)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what, count, found, timeout))
            await asyncio.sleep(0.005)

    def _timeout_message(self, what: str, count: int, found: list[T], timeout: float) -> str:
        seen = self.items()
        tail = "".join(f"\n  {item!r:.300}" for item in seen[-10:])
        return (
            f"expected {count} {what} within {timeout:g} s, found {len(found)}; "
            f"last of {len(seen)} recorded:{tail}"
        )
