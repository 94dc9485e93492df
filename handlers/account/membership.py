"""Which conversations a person is in, so App Home lists only the watches they may see.

A watch names a channel, and a private channel's (or a direct message's) watches are that
conversation's business: the Home tab shows a person only the watches of conversations they are
a member of. Slack's `users.conversations` with the `user` argument answers that in one
paginated call (with a bot token it lists public channels, and private ones, DMs and group DMs
the bot shares with that person). Listeners get the one `Memberships` of their app by name
(`memberships`); an answer is kept briefly per person, so opening the tab again and again costs
Slack one call a minute, and a channel joined or left shows within that time. An answer Slack
refused is not kept.
"""

from __future__ import annotations

import logging

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.errors import slack_error

log = logging.getLogger("altegio.handlers")

TYPES = "public_channel,private_channel,mpim,im"
PAGE_SIZE = 200  # Slack's advice for paginated lists
MAX_PAGES = 50  # 10,000 conversations: past that the list is partial (fewer watches, never more)
MEMBERSHIP_TTL = 60.0
MEMBERSHIP_CACHE_SIZE = 5_000  # people who opened their Home tab within a minute, all workspaces


class Memberships:
    """One per app: each person's conversations, cached by (installing workspace, user)."""

    def __init__(
        self, *, ttl: float = MEMBERSHIP_TTL, maxsize: int = MEMBERSHIP_CACHE_SIZE
    ) -> None:
        self._cache: TTLCache[tuple[str, str], frozenset[str]] = TTLCache(maxsize=maxsize, ttl=ttl)

    async def conversations(
        self, client: AsyncWebClient, team: str, user: str
    ) -> frozenset[str] | None:
        """The ids of the conversations `user` is in, or None when Slack would not say."""
        key = (team, user)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            found = await _fetch(client, user)
        except (TimeoutError, SlackClientError, aiohttp.ClientError) as error:
            # Slack's error code (missing_scope, ratelimited), never the request or its token.
            code = slack_error(error) if isinstance(error, SlackApiError) else None
            log.warning("users.conversations failed: %s", code or type(error).__name__)
            return None
        self._cache[key] = found
        return found


async def _fetch(client: AsyncWebClient, user: str) -> frozenset[str]:
    ids: set[str] = set()
    cursor = ""
    for _ in range(MAX_PAGES):
        page = await client.users_conversations(
            user=user, types=TYPES, limit=PAGE_SIZE, cursor=cursor or None
        )
        ids.update(c["id"] for c in page.get("channels") or [] if isinstance(c, dict))
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return frozenset(ids)
