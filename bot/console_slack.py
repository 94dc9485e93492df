"""The console's stand-in for Slack's own HTTP endpoints, on 127.0.0.1 in the console's loop.

The bot reaches Slack over HTTP in two places the Web API client does not cover: it downloads a
shared file from its `url_private`, and it may answer through a `response_url` directly. Here a
file shared from the console is served from the local disk, and a response_url reply is handed
to the console to print, so neither needs a network.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web


@dataclass
class SharedFile:
    id: str
    path: Path

    def slack_object(self, base_url: str) -> dict[str, Any]:
        """The file as Slack's events and files.info describe it."""
        mimetype = mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"
        filetype = self.path.suffix.lstrip(".").lower() or "binary"
        url = f"{base_url}/files/{self.id}/{self.path.name}"
        return {
            "id": self.id,
            "name": self.path.name,
            "title": self.path.name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "size": self.path.stat().st_size,
            "url_private": url,
            "url_private_download": url,
        }


class LocalSlack:
    def __init__(self, on_reply: Callable[[dict[str, Any]], None]) -> None:
        self._on_reply = on_reply
        self._files: dict[str, SharedFile] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def respond_url(self) -> str:
        return f"{self.url}/respond"

    def share(self, path: Path) -> dict[str, Any]:
        shared = SharedFile(id="F" + uuid.uuid4().hex[:10].upper(), path=path.resolve())
        self._files[shared.id] = shared
        return shared.slack_object(self.url)

    def file(self, file_id: str) -> dict[str, Any] | None:
        shared = self._files.get(file_id)
        return shared.slack_object(self.url) if shared else None

    async def start(self) -> LocalSlack:
        app = web.Application()
        app.router.add_get("/files/{id}/{name}", self._download)
        app.router.add_post("/respond", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        shared = self._files.get(request.match_info["id"])
        if shared is None or not shared.path.is_file():
            return web.Response(status=404, text="file_not_found")
        return web.Response(body=shared.path.read_bytes(), content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        try:
            message = json.loads(await request.text())
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if isinstance(message, dict):
            self._on_reply(message)
        return web.Response(text="ok")
