from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> str:
    """A reachable Redis for the shared rate limit, or a skip that says how to get one."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception as exc:
        pytest.skip(
            f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__}): "
            "start one or set TEST_REDIS_URL to run the shared rate limit tests"
        )
    finally:
        await client.aclose()
    return REDIS_URL
