"""The one place Slack Web API clients are made, with a retry policy for the work they do.

Listeners and the alert sweep differ in what they may repeat. A 502 or 504 from Slack's edge
can come after Slack did the work, so repeating a post could post twice: listeners repeat on
those only the calls that are safe to repeat (views, reactions, message updates, reads), while
the sweep repeats any 5xx because each alert is claimed in the store before it is posted.
Every client sends a message Slack refuses for its blocks again as plain text
(handlers/refusals.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.refusals import guard_client

# Calls whose repetition changes nothing Slack users see twice.
SAFE_TO_REPEAT = ("views.", "reactions.", "chat.update", "files.info", "auth.test")
# What slack_sdk's own server-error handler retries, for every call.
ALWAYS_RETRIED = frozenset({500, 503})


@dataclass(frozen=True)
class RetryPolicy:
    rate_limited: int  # 429s retried, each after Retry-After
    any_server_error: bool  # True: every 5xx of every call; False: see SAFE_TO_REPEAT
    server_errors: int = 2
    dropped_connections: int = 2


LISTENER_RETRIES = RetryPolicy(rate_limited=3, any_server_error=False)
SWEEP_RETRIES = RetryPolicy(rate_limited=4, any_server_error=True)


class ServerErrorRetryHandler(AsyncRetryHandler):
    """Retries 500 and 503 always; 502, 504 and other 5xx as the policy allows."""

    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(max_retry_count=policy.server_errors)
        self._any = policy.any_server_error

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or not 500 <= response.status_code <= 599:
            return False
        if self._any or response.status_code in ALWAYS_RETRIED:
            return True
        if response.status_code in (502, 504):
            return api_method(request.url).startswith(SAFE_TO_REPEAT)
        return False


def api_method(url: str) -> str:
    """ "views.open" from https://slack.com/api/views.open?…"""
    return urlsplit(url).path.rsplit("/", 1)[-1]


def retry_handlers(policy: RetryPolicy) -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=policy.dropped_connections),
        AsyncRateLimitErrorRetryHandler(max_retry_count=policy.rate_limited),
        ServerErrorRetryHandler(policy),
    ]


def web_client(
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
    *,
    retries: RetryPolicy = LISTENER_RETRIES,
) -> AsyncWebClient:
    """A Web API client on SLACK_API_URL, each attempt bounded to 15 s.

    Pass the process's `session` so calls reuse connections: without one, slack_sdk opens a new
    aiohttp session (and connection) for every call.
    """
    url = settings.slack_api_url
    client = AsyncWebClient(
        token=settings.bot_token,  # None for a distributed app: each call names its workspace's
        base_url=url if url.endswith("/") else url + "/",
        timeout=15,
        session=session,
        retry_handlers=retry_handlers(retries),
    )
    return guard_client(client)
