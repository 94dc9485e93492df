"""Build the Bolt AsyncApp: Web API client, dependency injection, listeners."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from api import AltegioClient, set_lane
from bot import logging as bot_logging
from bot.bolt_adapter import PooledRespond
from bot.install_pages import NOT_INSTALLED
from bot.sandbox.marking import mark_client, mark_message
from bot.settings import Settings, handler_config
from bot.slack_client import web_client
from handlers.account.membership import Memberships
from handlers.account.messages import LOGIN_CALLBACK
from handlers.config import HandlerConfig
from handlers.people import People
from handlers.refusals import guard_client
from handlers.store import Store
from handlers.tenancy import workspace_key

log = logging.getLogger("altegio.bot")


class _QuietTokenWarning(logging.Filter):
    """Bolt falls back to $SLACK_BOT_TOKEN when given a client (or `authorize`), then warns on
    every start that the token it found is unused; the client carries that very token (the
    console's `authorize` stands in for it), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("`token`" in message and ("will be unused" in message or "ignored" in message))


_BOLT_LOG = logging.getLogger("slack_bolt")
_BOLT_LOG.addFilter(_QuietTokenWarning())


def build_app(
    settings: Settings,
    *,
    altegio: AltegioClient,
    store: Store,
    client: AsyncWebClient | None = None,
    request_verification: bool = True,
    http: aiohttp.ClientSession | None = None,
    authorize: Callable[..., Awaitable[AuthorizeResult]] | None = None,
) -> AsyncApp:
    """`http`, a session opened in the serving loop, carries Web API calls and respond().

    `authorize` replaces Bolt's auth.test on the first request (the console has no Slack).
    A distributed app (SLACK_CLIENT_ID) authorizes each request from its workspace's
    installation in the store's database instead (bot/oauth.py).
    """
    client = client or web_client(settings, http)
    if settings.altegio_sandbox:
        mark_client(client)
    guard_client(client)
    oauth_flow = None
    if settings.distributed and authorize is None:
        from bot.oauth import make_oauth_flow
        from bot.storage import SqlStore

        assert isinstance(store, SqlStore)
        oauth_flow = make_oauth_flow(settings, store, client)
    app = AsyncApp(
        client=client,
        authorize=authorize,
        oauth_flow=oauth_flow,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        request_verification_enabled=request_verification,
        logger=_BOLT_LOG,
        user_facing_authorize_error_message=NOT_INSTALLED,
    )
    respond = SandboxRespond if settings.altegio_sandbox else PooledRespond
    app.use(Inject(altegio, store, handler_config(settings), http, respond))
    handlers.register(app)
    return app


class Inject(AsyncMiddleware):
    """Hands every listener the Altegio client, the store and the settings, and tags the log.

    A subclass rather than an `@app.middleware` function: Bolt builds every injectable
    argument (some thirty) for each call of a function middleware, for each request.
    """

    def __init__(
        self,
        altegio: AltegioClient,
        store: Store,
        config: HandlerConfig,
        http: aiohttp.ClientSession | None,
        respond: type[PooledRespond] | None = None,
    ) -> None:
        self._altegio = altegio
        self._store = store
        self._config = config
        self._http = http
        self._respond = respond or PooledRespond
        self._people = People()
        self._memberships = Memberships()

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        context = req.context
        context["altegio"] = self._altegio
        context["store"] = self._store
        context["config"] = self._config
        context["people"] = self._people
        context["memberships"] = self._memberships
        # A reply to a response_url a listener kept (the login form's confirmation, sent once
        # the form has closed) leaves through the same door as respond(): marked in the sandbox.
        context["respond_to"] = self._respond_to
        # The installing workspace: its team id, or an org-wide install's enterprise id.
        context["team"] = workspace_key(
            context.enterprise_id, context.team_id, context.is_enterprise_install
        )
        context["user"] = context.user_id or ""
        if context.response_url:
            # Every listener's respond(): pooled, and falling back to plain text when refused.
            context["respond"] = self._respond(context.response_url, self._http)
        if context.client is not None:
            # Bolt makes a Web API client for each request: mark that one's messages too (in
            # the sandbox), and send what Slack refuses for its blocks again as plain text.
            if self._respond is SandboxRespond:
                mark_client(context.client)
            guard_client(context.client, context)
        bot_logging.request_id.set(_request_id(req))
        bot_logging.slack_user.set(context.user_id or "-")
        bot_logging.workspace.set(context.team_id or context.enterprise_id or "-")
        set_lane(_lane_of(req.body or {}), key=(context.team_id, context.user_id))
        return await next()

    def _respond_to(self, response_url: str) -> PooledRespond:
        return self._respond(response_url, self._http)


def _lane_of(body: dict[str, Any]) -> str:
    """Which of Altegio's lanes this request's calls wait in (see api/lanes.py)."""
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        if isinstance(view, dict) and view.get("callback_id") == LOGIN_CALLBACK:
            return "login"
    event = body.get("event")
    if isinstance(event, dict) and event.get("type") == "message" and event.get("files"):
        return "upload"
    return "interactive"


class SandboxRespond(PooledRespond):
    """respond() against the built-in sandbox: every reply says it shows sandbox data."""

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        return mark_message(body)


def _request_id(req: AsyncBoltRequest) -> str:
    body = req.body or {}
    for key in ("event_id", "trigger_id"):
        if isinstance(body.get(key), str):
            return body[key]
    return uuid.uuid4().hex[:12]
