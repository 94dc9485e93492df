"""A scripted Altegio behind httpx.MockTransport, and a client wired to it for fast tests."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from api import AltegioClient, CacheTTLs, RateConfig, Retries

PARTNER = "partner-secret-token"
USER = "user-secret-token"
BASE = "https://altegio.test/api/v1"

Reply = (
    httpx.Response
    | Exception
    | Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
)


def ok(data: Any, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data, "meta": []}, **kwargs)


def fail(status: int, message: str | None = None, errors: Any = None, **kwargs: Any):
    meta: dict[str, Any] = {}
    if message is not None:
        meta["message"] = message
    if errors is not None:
        meta["errors"] = errors
    return httpx.Response(status, json={"success": False, "data": None, "meta": meta}, **kwargs)


class Script:
    """Answers requests with the queued replies in order (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(await request.aread())
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = reply(request)
            if inspect.isawaitable(reply):
                reply = await reply
        return reply

    @property
    def calls(self) -> int:
        return len(self.requests)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make_client(script: Script, sleeps: Sleeps):
    made: list[AltegioClient] = []

    def factory(**overrides: Any) -> AltegioClient:
        """A client on the scripted transport; the config objects' fields may be given flat
        (`max_retries=0`, `license_ttl=0`), as most tests vary just one."""
        retries = {"backoff_base": 0.1}
        ttls: dict[str, Any] = {}
        for name in ("max_retries", "backoff_base", "backoff_max", "retry_after_cap"):
            if name in overrides:
                retries[name] = overrides.pop(name)
        for name, field in (
            ("license_ttl", "license"),
            ("phone_ttl", "phone"),
            ("not_found_ttl", "not_found"),
            ("cache_size", "size"),
        ):
            if name in overrides:
                ttls[field] = overrides.pop(name)
        rate = overrides.pop("rate_limit", None)
        options: dict[str, Any] = {
            "rate": RateConfig(rate) if rate else None,
            "transport": httpx.MockTransport(script),
            "sleep": sleeps,
            "retries": Retries(**retries),
            "cache": CacheTTLs(**ttls),
        }
        options.update(overrides)
        base = options.pop("base_url", BASE)
        client = AltegioClient(base, options.pop("partner_token", PARTNER), **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client) -> AltegioClient:
    return make_client()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> str:
    """A reachable Redis for the shared rate limiter, or a skip that says how to get one."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception as exc:
        pytest.skip(
            f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__}); "
            "start one or set TEST_REDIS_URL to run the shared rate limiter tests"
        )
    finally:
        await client.aclose()
    return REDIS_URL
