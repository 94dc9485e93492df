"""Every setting the bot reads, from the environment and an optional `.env` file.

`load_settings()` is the only way in: a missing or malformed setting stops start-up with one
short paragraph that names it and says how to fix it (exit code 2, no traceback).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.storage.engine import PoolOptions
from handlers.config import HandlerConfig
from handlers.i18n import LANGUAGES, check_language

DEFAULT_DATABASE_URL = "sqlite:///altegio-bot.db"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)

# One line of advice per setting, shown when that setting is missing or malformed.
HELP: dict[str, str] = {
    "slack_bot_token": (
        "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page"
    ),
    "slack_signing_secret": "the Signing Secret from your Slack app's Basic Information page",
    "slack_client_id": "the Client ID from your Slack app's Basic Information page",
    "slack_client_secret": "the Client Secret from your Slack app's Basic Information page",
    "slack_redirect_uri": (
        "the Redirect URL the app lists, e.g. https://your.host/slack/oauth_redirect"
    ),
    "slack_app_token": "an app-level token (xapp-…) with connections:write, for Socket Mode",
    "slack_api_url": "the Slack Web API base URL, e.g. https://slack.com/api/",
    "altegio_partner_token": "your Altegio partner (integrator) token",
    "altegio_user_token": (
        "an optional Altegio user token, used when a Slack user has not linked an account"
    ),
    "altegio_api_url": "the Altegio API base URL, e.g. https://api.alteg.io/api/v1",
    "altegio_web_url": "the Altegio web app's address for links, e.g. https://app.alteg.io",
    "altegio_rate_limit": "requests per second to Altegio, a number above 0 (Altegio allows 5)",
    "altegio_rate_limit_per_minute": "requests per minute to Altegio, a number above 0",
    "altegio_timeout": "seconds to wait for Altegio, a number above 0",
    "login_max_wait": "seconds a login may wait for Altegio's request budget, above 0",
    "interactive_max_wait": "seconds a command may wait for Altegio's request budget, above 0",
    "upload_max_wait": "seconds a photo upload may wait for Altegio's request budget, above 0",
    "login_attempts": "logins allowed per person per LOGIN_ATTEMPTS_WINDOW, a whole number",
    "login_attempts_window": "seconds, a number above 0",
    "web_concurrency": "the number of worker processes for `serve`, a whole number of 1 or more",
    "database_url": "e.g. sqlite:///altegio-bot.db or postgresql://user@host/db",
    "bot_encryption_key": (
        "one or more Fernet keys, comma-separated; make one with `altegio-bot keygen`"
    ),
    "redis_url": "e.g. redis://localhost:6379/0, to share the Altegio rate limit between processes",
    "db_pool_size": "PostgreSQL connections kept open per process, a whole number above 0",
    "db_max_overflow": "extra PostgreSQL connections allowed at busy times, 0 or more",
    "db_pool_timeout": "seconds to wait for a free database connection, a number above 0",
    "db_connect_timeout": "seconds to wait for PostgreSQL to accept a connection, above 0",
    "db_statement_timeout": "seconds one PostgreSQL statement may run, 0 for no limit",
    "delivery_retention_hours": "hours to remember Slack deliveries, at least 1",
    "file_retention_days": "days to remember uploaded photos, at least 1",
    "alert_retention_days": "days to keep the alert log of past licence periods, at least 1",
    "audit_retention_days": "days to keep the audit trail, at least 1",
    "socket_ping_interval": "seconds between Socket Mode pings, a number above 0",
    "port": "the HTTP port, a whole number from 1 to 65535",
    "alert_days": "comma-separated whole numbers of days, e.g. 30,7,1",
    "alert_refresh": "a time like 1d, 12h or 90m (or seconds): how long a licence may go unfetched",
    "license_cache_ttl": "seconds, a number of 0 or more",
    "phone_cache_ttl": "seconds, a number of 0 or more",
    "not_found_cache_ttl": "seconds, a number of 0 or more",
    "max_image_bytes": "a size in bytes, a whole number above 0",
    "photo_concurrency": "a whole number from 1 to 64",
    "default_locale": f"a language the bot speaks: one of {', '.join(LANGUAGES)}",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "log_format": "text (the default) or json, one JSON object per line",
    "altegio_sandbox": "1 to run against the built-in sandbox Altegio instead, or 0",
    "metrics_token": "a bearer token GET /metrics must carry, or empty for none",
    "metrics_port": "the port `alerts --every` serves /metrics on, a whole number from 1 to 65535",
    "metrics_textfile": "a file path the alert sweep writes its metrics to (node_exporter)",
    "request_body_timeout": "seconds to receive a request's body, a number above 0",
    "max_concurrent_requests": "a whole number above 0",
    "forwarded_allow_ips": (
        "comma-separated addresses of your proxies whose X-Forwarded-* headers are trusted, "
        "or empty for none"
    ),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Slack: SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for
    # a distributed app installed with "Add to Slack" (see `mode_problems`).
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_redirect_uri: str | None = None
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Socket Mode: a connection silent for a few intervals is replaced.
    socket_ping_interval: float = Field(10.0, gt=0)

    # Altegio
    altegio_partner_token: SecretStr
    altegio_sandbox: bool = False
    altegio_user_token: SecretStr | None = None
    altegio_api_url: str = "https://api.alteg.io/api/v1"
    altegio_web_url: str = "https://app.alteg.io"
    altegio_rate_limit: float = Field(5.0, gt=0)
    altegio_rate_limit_per_minute: float | None = Field(None, gt=0)
    altegio_timeout: float = Field(10.0, gt=0)
    # Longest wait for a request slot per lane before "Altegio is busy" (the sweep waits on).
    login_max_wait: float = Field(5.0, gt=0)
    interactive_max_wait: float = Field(10.0, gt=0)
    upload_max_wait: float = Field(240.0, gt=0)
    login_attempts: int = Field(5, ge=0)
    login_attempts_window: float = Field(300.0, gt=0)

    # Storage and process
    database_url: str = DEFAULT_DATABASE_URL
    bot_encryption_key: SecretStr | None = None
    redis_url: str | None = None
    port: int = Field(3000, ge=1, le=65535)
    web_concurrency: int = Field(1, ge=1)
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_token: SecretStr | None = None
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_textfile: str | None = None
    # PostgreSQL pool and waits (SQLite keeps its own pool of 20 and a 30 s busy timeout).
    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_timeout: float = Field(5.0, gt=0)
    db_connect_timeout: float = Field(5.0, gt=0)
    db_statement_timeout: float = Field(15.0, ge=0)

    # Retention (see bot/retention.py for what each keeps and why)
    delivery_retention_hours: float = Field(24.0, ge=1)
    file_retention_days: float = Field(90.0, ge=1)
    alert_retention_days: float = Field(90.0, ge=1)
    audit_retention_days: float = Field(365.0, ge=1)

    # HTTP serving
    request_body_timeout: float = Field(10.0, gt=0)
    max_concurrent_requests: int = Field(200, gt=0)
    forwarded_allow_ips: str = "127.0.0.1"

    # Behaviour
    alert_days: Annotated[tuple[int, ...], NoDecode] = (30, 7, 1)
    # Seconds; the alert sweep fetches a licence with no news due at most this often.
    alert_refresh: Annotated[float, NoDecode] = Field(86400.0, ge=0)
    license_cache_ttl: float = Field(300.0, ge=0)
    phone_cache_ttl: float = Field(86400.0, ge=0)
    not_found_cache_ttl: float = Field(30.0, ge=0)
    max_image_bytes: int = Field(10 * 1024 * 1024, gt=0)
    photo_concurrency: int = Field(4, ge=1, le=64)
    # The language of people whose Slack locale the bot does not speak, and of the console.
    default_locale: str = "en"

    @field_validator("default_locale", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        return check_language(value) if isinstance(value, str) else value

    @field_validator("alert_days", mode="before")
    @classmethod
    def _parse_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not parts or not all(p.isdigit() for p in parts):
                raise ValueError("expected comma-separated whole numbers")
            value = [int(p) for p in parts]
        if isinstance(value, list | tuple):
            # Largest first: the first threshold is the "getting close" mark on licence cards.
            return tuple(sorted({int(v) for v in value}, reverse=True))
        return value

    @field_validator("alert_refresh", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = _DURATION.match(value)
            if not match:
                raise ValueError("expected a number with s, m, h or d")
            return float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
                raise ValueError("unknown level")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in {"text", "json"}:
                raise ValueError("unknown format")
        return value

    @field_validator(
        "slack_app_token",
        "metrics_token",
        "metrics_port",
        "metrics_textfile",
        "slack_bot_token",
        "slack_client_id",
        "slack_client_secret",
        "slack_redirect_uri",
        "altegio_user_token",
        "bot_encryption_key",
        "redis_url",
        "altegio_rate_limit_per_minute",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def per_minute_limit(self) -> float | None:
        """Altegio documents 200 a minute beside 5 a second; a raised rate means a custom quota."""
        if self.altegio_rate_limit_per_minute is not None:
            return self.altegio_rate_limit_per_minute
        return 200.0 if self.altegio_rate_limit <= 5 else None

    @property
    def pool_options(self) -> PoolOptions:
        return PoolOptions(
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            pool_timeout=self.db_pool_timeout,
            connect_timeout=self.db_connect_timeout,
            statement_timeout=self.db_statement_timeout,
        )

    @property
    def distributed(self) -> bool:
        """Installed with "Add to Slack" in any number of workspaces (OAuth), not one token."""
        return self.slack_client_id is not None

    @property
    def bot_token(self) -> str | None:
        """The single workspace's bot token; None for a distributed app (each has its own)."""
        return self.slack_bot_token.get_secret_value() if self.slack_bot_token else None


class _SlackMode(BaseSettings):
    """Just the settings that choose the mode, read leniently so that their problems are
    reported beside every other setting's."""

    model_config = Settings.model_config

    slack_bot_token: str = ""
    slack_client_id: str = ""
    slack_client_secret: str = ""
    altegio_user_token: str = ""


def mode_problems(mode: _SlackMode) -> list[str]:
    """One line per problem with the Slack mode: exactly one of the two must be set."""
    token, client_id, secret = (
        mode.slack_bot_token.strip(),
        mode.slack_client_id.strip(),
        mode.slack_client_secret.strip(),
    )
    if token and (client_id or secret):
        return [
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set: choose one "
            "mode. Keep SLACK_BOT_TOKEN for one workspace, or remove it to install the app in "
            'many workspaces with "Add to Slack".'
        ]
    if not token and not client_id and not secret:
        return [
            f"SLACK_BOT_TOKEN is not set: set it to {HELP['slack_bot_token']}; or, to install "
            'the app in many workspaces with "Add to Slack", set SLACK_CLIENT_ID and '
            "SLACK_CLIENT_SECRET instead."
        ]
    problems = []
    for name, value in (("slack_client_id", client_id), ("slack_client_secret", secret)):
        if not token and not value:
            problems.append(f"{name.upper()} is not set: set it to {HELP[name]}.")
    if not token and mode.altegio_user_token.strip():
        problems.append(
            "ALTEGIO_USER_TOKEN cannot be used with SLACK_CLIENT_ID: in an app installed in "
            "many workspaces, each workspace's people act with their own Altegio accounts, "
            "so remove it."
        )
    return problems


class SettingsError(Exception):
    """Raised with a readable paragraph; the CLI prints it and exits 2."""


def _describe(error: ValidationError | None, problems: list[str]) -> str:
    lines = list(problems)
    for item in error.errors() if error is not None else ():
        field = str(item["loc"][0]) if item["loc"] else "?"
        env = field.upper()
        problem = "is not set" if item["type"] == "missing" else "is not valid"
        advice = HELP.get(field, "")
        lines.append(f"{env} {problem}: set it to {advice}." if advice else f"{env} {problem}.")
    return (
        "altegio-bot cannot start because of its settings.\n  "
        + "\n  ".join(lines)
        + "\nSet them in the environment or in a .env file (see .env.example)."
    )


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings, raising SettingsError with one paragraph of advice when they are wrong."""
    mode = _SlackMode(
        _env_file=env_file,  # type: ignore[call-arg]
        **{
            k: v.get_secret_value() if isinstance(v, SecretStr) else str(v)
            for k, v in overrides.items()
            if k in _SlackMode.model_fields and v is not None
        },
    )
    problems = mode_problems(mode)
    try:
        if "altegio_partner_token" not in overrides and _SandboxFlag(_env_file=env_file).on:  # type: ignore[call-arg]
            # The sandbox has a partner token of its own: the operator needs none.
            from bot.sandbox import PARTNER_TOKEN

            overrides = {**overrides, "altegio_partner_token": PARTNER_TOKEN}
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(_describe(exc, problems)) from None
    if problems:
        raise SettingsError(_describe(None, problems))
    return settings


class _SandboxFlag(BaseSettings):
    """ALTEGIO_SANDBOX alone, read first: it decides whether a partner token is required."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )
    altegio_sandbox: bool = False

    @property
    def on(self) -> bool:
        return self.altegio_sandbox


def handler_config(settings: Settings) -> HandlerConfig:
    """The part of the settings handlers act on."""
    api_host = urlparse(settings.slack_api_url).hostname or "slack.com"
    service = settings.altegio_user_token
    return HandlerConfig(
        alert_days=settings.alert_days,
        max_image_bytes=settings.max_image_bytes,
        photo_concurrency=settings.photo_concurrency,
        service_user_token=service.get_secret_value() if service else None,
        slack_hosts=tuple(dict.fromkeys(("slack.com", "files.slack.com", api_host))),
        altegio_web_url=settings.altegio_web_url,
        watch_as_member=settings.distributed,
        default_locale=settings.default_locale,
    )
