"""Who a Slack user is, as far as the bot's decisions go: guest or member, home workspace, locale.

One `users.info` call per person, kept for a few minutes in a TTLCache, answers every question
a listener asks about its user: whether they may act through the operator's service account
(a guest or someone from another organisation may not), which language to answer in. Listeners
get the one `People` of their app by name (`people`) and ask `await people.person(client, team,
user)`. An answer Slack refused is not cached: the next request asks again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.errors import slack_error

log = logging.getLogger("altegio.handlers")

# Guest status and home workspace change rarely; a few minutes bounds how long a change goes
# unnoticed. Size: people active at once across all installed workspaces.
PERSON_TTL = 300.0
PERSON_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Person:
    user_id: str
    # Whether Slack answered: an unknown person gets no more trust than a guest.
    known: bool
    is_guest: bool = False  # is_restricted or is_ultra_restricted
    team_id: str | None = None  # the person's own workspace
    enterprise_id: str | None = None  # and Enterprise Grid org, if any
    teams: tuple[str, ...] = ()  # the org's workspaces this person belongs to (Grid)
    locale: str | None = None  # e.g. "en-US", from include_locale
    name: str | None = field(default=None)

    def belongs_to(self, team: str) -> bool:
        """Whether the person is of the installing workspace `team` (a team id, or an org-wide
        install's enterprise id), rather than a guest from another organisation."""
        if not self.known or not team:
            return False
        return team in {self.team_id, self.enterprise_id, *self.teams}

    def is_outsider(self, team: str) -> bool:
        """A guest, someone from another organisation (Slack Connect), or unknown."""
        return not self.known or self.is_guest or not self.belongs_to(team)


def from_users_info(user_id: str, user: dict[str, Any]) -> Person:
    enterprise = user.get("enterprise_user")
    enterprise = enterprise if isinstance(enterprise, dict) else {}
    teams = enterprise.get("teams")
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    return Person(
        user_id=user_id,
        known=True,
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        team_id=_text(user.get("team_id")),
        enterprise_id=_text(enterprise.get("enterprise_id")) or _text(user.get("enterprise_id")),
        teams=tuple(t for t in teams if isinstance(t, str)) if isinstance(teams, list) else (),
        locale=_text(user.get("locale")),
        name=_text(user.get("real_name")) or _text(profile.get("real_name")),
    )


class People:
    """One per app: `users.info` answers, cached by (installing workspace, user)."""

    def __init__(self, *, ttl: float = PERSON_TTL, maxsize: int = PERSON_CACHE_SIZE) -> None:
        self._cache: TTLCache[tuple[str, str], Person] = TTLCache(maxsize=maxsize, ttl=ttl)

    async def person(self, client: AsyncWebClient, team: str, user: str) -> Person:
        key = (team, user)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            answer = await client.users_info(user=user, include_locale=True)
        except SlackApiError as error:
            log.warning("users.info failed: %s", slack_error(error) or "no error code")
            return Person(user_id=user, known=False)
        except Exception as error:  # Slack unreachable: ask again next time
            log.warning("users.info failed: %s", type(error).__name__)
            return Person(user_id=user, known=False)
        data = answer.get("user")
        if not isinstance(data, dict):
            return Person(user_id=user, known=False)
        found = from_users_info(user, data)
        self._cache[key] = found
        return found

    def forget(self, team: str, user: str) -> None:
        self._cache.pop((team, user), None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
