"""The part of the settings that handlers act on, handed to listeners as their `config` argument."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HandlerConfig:
    """The part of the settings that handlers act on (no secrets except the service token)."""

    alert_days: tuple[int, ...] = (30, 7, 1)  # largest first
    max_image_bytes: int = 10 * 1024 * 1024
    # Photos held in memory at once per process, each from its download to its upload's end.
    photo_concurrency: int = 4
    # Optional Altegio service-account user token, used when a Slack user has not linked one.
    service_user_token: str | None = field(default=None, repr=False)
    # Hosts that may receive the bot token on a file download (Slack's and SLACK_API_URL's).
    slack_hosts: tuple[str, ...] = ("slack.com", "files.slack.com")
    altegio_web_url: str = "https://app.alteg.io"
    # An app installed in many workspaces sweeps each watch with the Altegio session of the
    # member who set it up, so setting one needs a linked account.
    watch_as_member: bool = False
    # The language of whoever has no Slack locale the bot speaks (and of the console).
    default_locale: str = "en"
