"""The real bot in-process: the same Starlette app, Bolt app and handlers as `altegio-bot serve`,
reached through httpx's ASGI transport instead of a socket, so property tests can send hundreds
of signed requests in seconds. Altegio and Slack are the usual fakes over real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from bot.server import create_asgi
from tests.bot_server import bot_settings
from tests.fakes.signing import Signed


class InProcessBot:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_asgi(runtime)), base_url="http://bot.test"
        )

    async def post(self, signed: Signed, *, settle: bool = True) -> httpx.Response:
        """POST /slack/events; with `settle`, also wait for the work that follows the ack."""
        before = asyncio.all_tasks()
        body, headers = signed
        response = await self.http.post("/slack/events", content=body, headers=headers)
        if settle:
            started = [
                t
                for t in asyncio.all_tasks()
                if t not in before and t is not asyncio.current_task()
            ]
            if started:
                _, pending = await asyncio.wait(started, timeout=20)
                assert not pending, "a listener was still running 20 s after its ack"
        return response

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.runtime.close()


@pytest.fixture
async def inproc(fake_settings: dict[str, str], tmp_path: Path) -> AsyncIterator[InProcessBot]:
    settings = bot_settings(
        **fake_settings,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        altegio_timeout=2,
        # Hundreds of lookups in a few seconds: the fake does not limit, nor should the client.
        altegio_rate_limit=1000,
    )
    bot = InProcessBot(await Runtime.open(settings))
    try:
        yield bot
    finally:
        await bot.aclose()
