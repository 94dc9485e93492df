"""Everything one process holds open: the store, the Altegio client and the Bolt app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from starlette.routing import Route

from api import (
    AltegioClient,
    CacheTTLs,
    LaneWaits,
    RateConfig,
    RateLimiter,
    build_limiter,
    build_login_attempts,
)
from bot import metrics
from bot.app import build_app
from bot.retention import PRUNE_INTERVAL, Retention, prune_every
from bot.settings import Settings
from bot.storage import SqlStore, StorageError, open_store
from handlers.resources import close_all

if TYPE_CHECKING:
    from bot.sandbox import SandboxAltegio

log = logging.getLogger("altegio.bot")


class StartupError(Exception):
    """A dependency the bot cannot run without is missing; the CLI prints it and exits 2."""


@dataclass
class Runtime:
    settings: Settings
    altegio: AltegioClient
    store: SqlStore
    app: AsyncApp
    limiter: RateLimiter
    http: aiohttp.ClientSession | None = None
    sandbox: SandboxAltegio | None = None
    housekeeping: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        # Off: bot/server.py checks Slack's signature on the raw bytes before anything is parsed,
        # and Bolt's own check logs the whole body of a request it refuses. Socket Mode is unsigned.
        request_verification: bool = False,
        authorize: Callable[..., Awaitable[AuthorizeResult]] | None = None,
        share: float = 1.0,
    ) -> Runtime:
        """`share`: this process's part of Altegio's budget when it cannot share it through
        Redis with the others (one of several workers): their rates must add up to the limit."""
        sandbox = None
        if settings.altegio_sandbox:
            settings, sandbox = await _with_sandbox(settings)
        try:
            store = await open_store(
                settings.database_url,
                settings.bot_encryption_key.get_secret_value()
                if settings.bot_encryption_key
                else None,
                pool=settings.pool_options,
            )
        except StorageError as exc:
            if sandbox is not None:
                await sandbox.stop()
            raise StartupError(str(exc)) from None
        limiter = build_limiter(
            settings.altegio_rate_limit,
            redis_url=settings.redis_url,
            per_minute=settings.per_minute_limit,
            share=share,
            waits=lane_waits(settings),
        )
        altegio = make_altegio_client(settings, limiter)
        # One session for every Slack call of this process, made here: it belongs to this loop.
        http = aiohttp.ClientSession()
        app = build_app(
            settings,
            altegio=altegio,
            store=store,
            client=client,
            request_verification=request_verification,
            http=http,
            authorize=authorize,
        )
        return cls(
            settings=settings,
            altegio=altegio,
            store=store,
            app=app,
            limiter=limiter,
            http=http,
            sandbox=sandbox,
        )

    def start_housekeeping(self) -> None:
        """Prune old rows now and every so often, for as long as the runtime is open."""
        retention = Retention.from_settings(self.settings)
        self.housekeeping = asyncio.ensure_future(
            prune_every(self.store, retention, PRUNE_INTERVAL)
        )

    async def stop_housekeeping(self) -> None:
        if self.housekeeping is not None:
            self.housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.housekeeping
            self.housekeeping = None

    def install_routes(self) -> list[Route]:
        """The "Add to Slack" pages (GET /slack/install, /slack/oauth_redirect), if distributed."""
        if self.app.oauth_flow is None:
            return []
        from bot.oauth import install_routes

        return install_routes(self.app.oauth_flow)

    async def close(self) -> None:
        await self.stop_housekeeping()
        await close_all(self.app)
        await self.altegio.aclose()
        if self.http is not None:
            await self.http.close()
        for shared in (self.limiter, self.altegio.login_attempts):
            aclose = getattr(shared, "aclose", None)
            if aclose is not None:
                await aclose()
        await self.store.close()
        if self.sandbox is not None:
            await self.sandbox.stop()


async def _with_sandbox(settings: Settings) -> tuple[Settings, SandboxAltegio]:
    """ALTEGIO_SANDBOX: the built-in sandbox, started in this process, stands in for Altegio."""
    from bot.sandbox import LOGIN, PARTNER_TOKEN, start_sandbox

    sandbox = await start_sandbox()
    log.warning(
        "ALTEGIO_SANDBOX is on: Altegio is the built-in sandbox at %s (sample data; log in "
        "with %s and the sandbox password from the README), not %s",
        sandbox.base_url,
        LOGIN,
        settings.altegio_api_url,
    )
    updated = settings.model_copy(
        update={
            "altegio_api_url": sandbox.base_url,
            "altegio_partner_token": SecretStr(PARTNER_TOKEN),
        }
    )
    return updated, sandbox


def make_altegio_client(settings: Settings, limiter: RateLimiter) -> AltegioClient:
    """One client per process: every call, from any listener or the sweep, shares its limiter."""
    return AltegioClient(
        settings.altegio_api_url,
        settings.altegio_partner_token.get_secret_value(),
        rate=RateConfig(settings.altegio_rate_limit, per_minute=settings.per_minute_limit),
        timeout=settings.altegio_timeout,
        cache=CacheTTLs(
            license=settings.license_cache_ttl,
            phone=settings.phone_cache_ttl,
            not_found=settings.not_found_cache_ttl,
        ),
        limiter=metrics.TimedLimiter(limiter),
        observer=metrics.AltegioMetrics(),
        login_attempts=build_login_attempts(
            settings.login_attempts, settings.login_attempts_window, redis_url=settings.redis_url
        ),
    )


def lane_waits(settings: Settings) -> LaneWaits:
    return LaneWaits(
        login=settings.login_max_wait,
        interactive=settings.interactive_max_wait,
        upload=settings.upload_max_wait,
        sweep=None,
    )
