"""Concurrent photo downloads reuse their HTTP connections instead of opening one each.

httpcore (1.0.9) closes an idle connection whenever its pool holds more connections than
`max_keepalive_connections`, busy ones included. With a keep-alive limit below the number of
downloads that run at once, nearly every download under load opened a new connection (with
Slack, a new TLS handshake): bench/load.py counted one per shared photo.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from handlers.images.download import CONCURRENT_DOWNLOADS, JPEG, Downloader

JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(2000)
ROUNDS = 4


class Server:
    """A loopback file host that remembers each client connection it served."""

    def __init__(self) -> None:
        # Each connection's transport, kept so that no two share an id().
        self.connections: dict[int, object] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.connections[id(request.transport)] = request.transport
        await asyncio.sleep(0.02)  # long enough for every download of a round to be in flight
        return web.Response(body=JPEG_BYTES, content_type=JPEG)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    served = Server()
    app = web.Application()
    app.router.add_get("/{tail:.*}", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    served.url = f"http://127.0.0.1:{port}"
    try:
        yield served
    finally:
        await runner.cleanup()


async def test_concurrent_downloads_keep_their_connections(server: Server) -> None:
    downloader = Downloader()
    try:
        for round_ in range(ROUNDS):
            await asyncio.gather(
                *(
                    downloader.fetch(
                        f"{server.url}/files-pri/T1-F{round_}{i}/photo.jpg",
                        token="xoxb-test",
                        trusted_hosts=("127.0.0.1",),
                        max_bytes=10_000,
                    )
                    for i in range(CONCURRENT_DOWNLOADS)
                )
            )
    finally:
        await downloader.aclose()
    assert len(server.connections) <= CONCURRENT_DOWNLOADS
