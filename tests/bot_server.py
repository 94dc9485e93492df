"""The real bot, served by uvicorn on an ephemeral 127.0.0.1 port in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from bot.runtime import Runtime
from bot.server import serve
from bot.settings import Settings, load_settings


class BotServer:
    """Start with `with BotServer(settings) as bot:`; `bot.url` is the /slack/events URL."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/slack/events"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="bot-server", daemon=True)

    def __enter__(self) -> BotServer:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the bot did not start within 20 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(20)

    def call(self, coro: Any, timeout: float = 20) -> Any:
        """Run a coroutine on the bot's own event loop (e.g. a store query); return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            self.runtime = await Runtime.open(self.settings)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        ready = asyncio.Event()
        server_task = asyncio.ensure_future(
            serve(
                self.runtime,
                host="127.0.0.1",
                port=self.port,
                sock=self._sock,
                ready=ready,
                stop=self._stopped,
            )
        )
        await ready.wait()
        self._ready.set()
        with contextlib.suppress(Exception):
            await server_task
        # Let listeners still running after their ack finish before the store closes.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=5)
        await self.runtime.close()


def bot_settings(**values: Any) -> Settings:
    """Settings for a test bot: nothing read from the environment's .env file."""
    return load_settings(env_file=None, **values)


@contextlib.contextmanager
def running_bot(**values: Any) -> Iterator[BotServer]:
    with BotServer(bot_settings(**values)) as bot:
        yield bot
