"""The Socket Mode watchdog: a connection left down is replaced even when the client gave up.

slack_sdk's client turns its own reconnecting off while it connects and on again only once
connected, so a reconnect interrupted part-way leaves it deaf for good. Here a real client,
talking to the fake Socket Mode server, is put in that state and its connection dropped: alone
it stays down; beside the bot's watchdog it is connected again within a few ping intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.socket_mode import watch_connection
from tests.fakes import FakeSlack
from tests.fakes.slack import APP_TOKEN
from tests.fakes.socket_mode import FakeSocketMode

PING = 0.3


@pytest.fixture
async def deaf_client(
    fake_slack: FakeSlack,
) -> AsyncIterator[tuple[SocketModeClient, FakeSocketMode]]:
    with FakeSocketMode() as server:
        fake_slack.socket_mode_url = server.url
        web = AsyncWebClient(base_url=fake_slack.api_url)
        client = SocketModeClient(app_token=APP_TOKEN, web_client=web, ping_interval=PING)
        try:
            await client.connect()
            await asyncio.to_thread(server.wait_for_connections, 1)
            client.auto_reconnect_enabled = False  # as a reconnect cut short leaves it
            yield client, server
        finally:
            await client.close()
            fake_slack.socket_mode_url = None


async def test_without_the_watchdog_a_client_that_gave_up_stays_disconnected(
    deaf_client: tuple[SocketModeClient, FakeSocketMode],
) -> None:
    client, server = deaf_client
    server.drop()
    await asyncio.sleep(PING * 10)
    assert len(server.connections) == 1
    assert not await client.is_connected()


async def test_the_watchdog_reconnects_a_client_that_gave_up(
    deaf_client: tuple[SocketModeClient, FakeSocketMode],
) -> None:
    client, server = deaf_client
    watchdog = asyncio.ensure_future(watch_connection(client, PING))
    try:
        server.drop()
        await asyncio.to_thread(server.wait_for_connections, 2, 10)
        for _ in range(20):
            if await client.is_connected():
                break
            await asyncio.sleep(PING)
        assert await client.is_connected()
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
