"""Build the Bolt AsyncApp: Web API client, dependency injection, listeners."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from api import AltegioClient
from bot import logging as bot_logging
from bot.settings import Settings
from handlers.ports import HandlerConfig, Store

log = logging.getLogger("altegio.bot")


def make_web_client(settings: Settings) -> AsyncWebClient:
    """Slack Web API client on SLACK_API_URL, retrying 429s (honouring Retry-After) and 5xx."""
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=_with_slash(settings.slack_api_url),
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def handler_config(settings: Settings) -> HandlerConfig:
    api_host = urlparse(settings.slack_api_url).hostname or "slack.com"
    service = settings.altegio_user_token
    return HandlerConfig(
        alert_days=settings.alert_days,
        max_image_bytes=settings.max_image_bytes,
        service_user_token=service.get_secret_value() if service else None,
        slack_hosts=tuple(dict.fromkeys(("slack.com", "files.slack.com", api_host))),
    )


def build_app(
    settings: Settings,
    *,
    altegio: AltegioClient,
    store: Store,
    client: AsyncWebClient | None = None,
    request_verification: bool = True,
) -> AsyncApp:
    app = AsyncApp(
        client=client or make_web_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        request_verification_enabled=request_verification,
        logger=logging.getLogger("slack_bolt"),
    )
    config = handler_config(settings)

    @app.middleware
    async def inject(
        req: AsyncBoltRequest,
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        context["altegio"] = altegio
        context["store"] = store
        context["config"] = config
        bot_logging.request_id.set(_request_id(req))
        bot_logging.slack_user.set(context.user_id or "-")
        return await next()

    handlers.register(app)
    return app


def _request_id(req: AsyncBoltRequest) -> str:
    body = req.body or {}
    for key in ("event_id", "trigger_id"):
        if isinstance(body.get(key), str):
            return body[key]
    return uuid.uuid4().hex[:12]


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
