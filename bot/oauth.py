"""A distributed app: "Add to Slack" through Bolt's AsyncOAuthFlow, on the bot's own database.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, `GET /slack/install` shows the install page and
`GET /slack/oauth_redirect` completes an installation (both under `serve`, and beside the
Socket Mode client under `socket`). Installations and OAuth states live in the bot's database
(bot/storage/installations.py). Each request from Slack is authorized by Bolt from that
workspace's installation, read from the database every time, so its Web API client carries that
workspace's bot token; every Slack call, oauth.v2.access and auth.test included, goes to
SLACK_API_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import urlparse

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import install_pages
from bot.settings import Settings
from bot.storage import SqlInstallationStore, SqlOAuthStateStore, SqlStore

log = logging.getLogger("altegio.bot")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes the app asks for: manifest.yml's, which a test keeps equal to these.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "files:read",
    "channels:history",
    "groups:history",
    "reactions:write",
    # App Home lists only the watches of conversations the viewer is in (users.conversations).
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    # Each person's Slack language, to answer in it (users.info).
    "users:read",
)
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def authorization_url(slack_api_url: str) -> str:
    """Slack's consent page on the host of SLACK_API_URL (slack.com, or slack-gov.com)."""
    parsed = urlparse(slack_api_url)
    return f"{parsed.scheme}://{parsed.netloc}/oauth/v2/authorize"


class InstallFlow(AsyncOAuthFlow):
    """Bolt's flow with the bot's own install page."""

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return install_pages.install_page(url)


def make_oauth_flow(settings: Settings, store: SqlStore, client: AsyncWebClient) -> InstallFlow:
    """`client` (on SLACK_API_URL, no token) makes oauth.v2.access, auth.test and the token
    rotation calls."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    installations = SqlInstallationStore(store)
    state_store = SqlOAuthStateStore(store)
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=state_store,
        state_expiration_seconds=state_store.expiration_seconds,
        callback_options=AsyncCallbackOptions(success=_succeeded, failure=_failed),
        logger=log,
    )
    # Bolt's own authorize, but with a client on SLACK_API_URL for token rotation (the default
    # one would call slack.com). Its cache holds auth.test answers by token only: it is read
    # after the installation is, from the database, so an uninstalled workspace has no token
    # to look up.
    oauth_settings.authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=oauth_settings.token_rotation_expiration_minutes,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )
    return InstallFlow(client=client, logger=log, settings=oauth_settings)


async def _succeeded(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    team_id = installation.team_id or installation.enterprise_id
    name = installation.team_name or installation.enterprise_name
    log.info(
        "installed in workspace %s%s",
        team_id,
        " (org-wide)" if installation.is_enterprise_install else "",
    )
    app_url = (
        f"slack://app?team={team_id}&id={installation.app_id}"
        if team_id and installation.app_id
        else None
    )
    return BoltResponse(
        status=200,
        body=install_pages.success_page(team_name=name, app_url=app_url),
        headers={
            **_HTML,
            "Set-Cookie": [args.settings.state_utils.build_set_cookie_for_deletion()],
        },
    )


async def _failed(args: AsyncFailureArgs) -> BoltResponse:
    log.info("an installation did not complete: %s", args.reason[:100])
    return BoltResponse(
        status=args.suggested_status_code,
        body=install_pages.failure_page(args.reason, install_path=INSTALL_PATH),
        headers={
            **_HTML,
            "Set-Cookie": [args.settings.state_utils.build_set_cookie_for_deletion()],
        },
    )


def bot_tokens(
    settings: Settings, store: SqlStore, client: AsyncWebClient
) -> Callable[[str], Awaitable[str | None]]:
    """Each workspace's bot token for the alert sweep, read from the database at every post
    (refreshed first when token rotation is on and it is about to expire); None once the
    workspace has uninstalled the app."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    installations = SqlInstallationStore(store)
    rotator = AsyncTokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=client,
    )

    async def token_of(workspace: str) -> str | None:
        bot = await installations.bot_for(workspace)
        if bot is None:
            return None
        if bot.bot_refresh_token:
            try:
                refreshed = await rotator.perform_bot_token_rotation(bot=bot)
            except SlackTokenRotationError as exc:
                log.error("could not refresh the bot token of workspace %s: %s", workspace, exc)
                return None
            if refreshed is not None:
                await installations.async_save_bot(refreshed)
                return refreshed.bot_token
        return bot.bot_token

    return token_of


def install_routes(flow: AsyncOAuthFlow) -> list[Route]:
    """GET /slack/install and GET /slack/oauth_redirect, for `serve`'s and `socket`'s servers."""

    async def install(request: Request) -> Response:
        try:
            answer = await flow.handle_installation(_bolt_request(request))
        except Exception as exc:  # e.g. the database is down: say so, not a stack trace
            log.warning("the install page failed: %s", type(exc).__name__)
            return _unavailable()
        return _response(answer, secure=request.url.scheme == "https")

    async def redirect(request: Request) -> Response:
        try:
            answer = await flow.handle_callback(_bolt_request(request))
        except Exception as exc:
            log.warning("completing an installation failed: %s", type(exc).__name__)
            return _unavailable()
        return _response(answer, secure=request.url.scheme == "https")

    return [
        Route(INSTALL_PATH, install, methods=["GET"]),
        Route(REDIRECT_PATH, redirect, methods=["GET"]),
    ]


async def serve_pages(routes: list[Route], *, host: str, port: int, stop: asyncio.Event) -> None:
    """The install pages alone (beside Socket Mode), until `stop`; signals stay the caller's."""
    import uvicorn
    from starlette.applications import Starlette

    from bot.server import uvicorn_config

    class _Pages(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    server = _Pages(uvicorn_config(Starlette(routes=routes), host=host, port=port))

    async def stop_on_request() -> None:
        await stop.wait()
        server.should_exit = True

    stopper = asyncio.ensure_future(stop_on_request())
    log.info("serving the install page on http://%s:%s%s", host, port, INSTALL_PATH)
    try:
        await server.serve()
    finally:
        stopper.cancel()


def _bolt_request(request: Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(
        body="",
        query={k: request.query_params.getlist(k) for k in request.query_params},
        headers={k: request.headers.getlist(k) for k in request.headers},
    )


def _response(answer: BoltResponse, *, secure: bool) -> Response:
    """Bolt's answer; the state cookie is Secure when the page was served over HTTPS (behind a
    TLS proxy, uvicorn's proxy headers say so), so a plain-HTTP trial on localhost works too."""
    response = Response(
        status_code=answer.status,
        content=answer.body,
        headers=answer.first_headers_without_set_cookie(),
    )
    for cookie in answer.cookies():
        for name, morsel in cookie.items():
            max_age = morsel.get("max-age")
            response.set_cookie(
                key=name,
                value=morsel.value,
                max_age=int(max_age) if max_age else None,
                expires=morsel.get("expires") or None,
                path=morsel.get("path") or "/",
                secure=secure,
                httponly=True,
                samesite="lax",
            )
    return response


def _unavailable() -> Response:
    return Response(
        install_pages.unavailable_page(install_path=INSTALL_PATH), status_code=503, headers=_HTML
    )
