"""slack_sdk's installation and OAuth state store interfaces, on the bot's own database.

slack_sdk ships SQLAlchemy stores, but on an engine and tables of their own; these share the
store's engine, its migrations, its SQLite write queue and its encryption:

- `SqlInstallationStore`: one row per installed workspace (or Enterprise Grid org, for an
  org-wide install), keyed like every other workspace row (handlers.tenancy.workspace_key).
  The bot token, and the refresh token when token rotation is on, are stored encrypted and
  bound to their workspace (keys.py lists them, so the key check and rotate-keys cover them).
  Every lookup reads the database: an uninstall handled by one process is seen by all at once.
  Only bot installations are kept; the app asks for no user scopes, so there are no user
  tokens to store.
- `SqlOAuthStateStore`: the `state` values of the OAuth flow. Consuming one is a DELETE whose
  row count only one caller can win, so a state is used once whichever process gets the
  redirect, and an expired one never.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError

from handlers.audit import INSTALL, audit
from handlers.tenancy import workspace_key

from .crypto import InvalidToken
from .keys import installation_context as _context
from .schema import installations, oauth_states
from .store import SqlStore, _rowcount

log = logging.getLogger(__name__)

_INSTALLATION = select(installations).where(installations.c.workspace == bindparam("workspace"))
# How long an "Add to Slack" click may take before its state runs out (Bolt's cookie lasts
# as long).
STATE_SECONDS = 600


class SqlInstallationStore(AsyncInstallationStore):
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    # -- saving --------------------------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        if not installation.bot_token:
            raise BoltError("the installation has no bot token")
        await self._save(installation.to_bot(), installer=installation.user_id or "")
        team = workspace_key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        await audit(self._store, team, installation.user_id or "", INSTALL)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._save(bot, installer=None)

    async def _save(self, bot: Bot, *, installer: str | None) -> None:
        key = workspace_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        if not key:
            raise BoltError("the installation names no workspace")
        store = self._store
        values: dict[str, Any] = {
            "enterprise_id": bot.enterprise_id,
            "enterprise_name": bot.enterprise_name,
            "team_id": bot.team_id,
            "team_name": bot.team_name,
            "app_id": bot.app_id,
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_scopes": ",".join(bot.bot_scopes or ()),
            "bot_token_ciphertext": store.encrypt_secret(bot.bot_token, _context(key, "bot")),
            "bot_refresh_token_ciphertext": (
                store.encrypt_secret(bot.bot_refresh_token, _context(key, "refresh"))
                if bot.bot_refresh_token
                else None
            ),
            "bot_token_expires_at": (
                datetime.fromtimestamp(bot.bot_token_expires_at, UTC)
                if bot.bot_token_expires_at
                else None
            ),
            "is_enterprise_install": bool(bot.is_enterprise_install),
        }
        if installer is not None:  # a fresh install; a token rotation keeps the installer
            values |= {"installer_user_id": installer, "installed_at": store._now()}
        insert = store._insert(installations).values(
            workspace=key,
            **{"installer_user_id": "", "installed_at": store._now(), **values},
        )
        stmt = insert.on_conflict_do_update(index_elements=["workspace"], set_=values)
        try:
            async with store._writing() as conn:
                await conn.execute(stmt)
        except SQLAlchemyError as exc:
            log.error("could not save the installation of %s: %s", key, type(exc).__name__)
            raise BoltError("the installation could not be saved") from exc
        log.info("saved the installation of workspace %s", key)

    # -- finding -------------------------------------------------------------------------------

    async def _row(self, key: str) -> Any | None:
        if not key:
            return None
        rows = await self._store._fetch(_INSTALLATION, {"workspace": key}, by_key=True)
        return rows[0] if rows else None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = workspace_key(enterprise_id, team_id, is_enterprise_install or team_id is None)
        row = await self._row(key)
        return self._bot(row) if row is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = workspace_key(enterprise_id, team_id, is_enterprise_install or team_id is None)
        row = await self._row(key)
        if row is None or (user_id is not None and user_id != row.installer_user_id):
            return None  # no user installations are kept
        bot = self._bot(row)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            enterprise_name=bot.enterprise_name,
            enterprise_url=row.enterprise_url,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            user_id=row.installer_user_id,
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
        )

    async def bot_for(self, workspace: str) -> Bot | None:
        """The installation of the workspace key that workspace rows carry (the sweep's way)."""
        row = await self._row(workspace)
        return self._bot(row) if row is not None else None

    def _bot(self, row: Any) -> Bot | None:
        store = self._store
        try:
            token = store.decrypt_secret(row.bot_token_ciphertext, _context(row.workspace, "bot"))
            refresh = (
                store.decrypt_secret(
                    row.bot_refresh_token_ciphertext, _context(row.workspace, "refresh")
                )
                if row.bot_refresh_token_ciphertext
                else None
            )
        except InvalidToken:
            log.warning(
                "The bot token of workspace %s cannot be decrypted with the configured "
                "encryption keys (was BOT_ENCRYPTION_KEY changed?); it must be installed again.",
                row.workspace,
            )
            return None
        expires = row.bot_token_expires_at
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            enterprise_name=row.enterprise_name,
            team_id=row.team_id,
            team_name=row.team_name,
            bot_token=token,
            bot_id=row.bot_id or "",
            bot_user_id=row.bot_user_id or "",
            bot_scopes=row.bot_scopes,
            bot_refresh_token=refresh,
            bot_token_expires_at=int(expires.timestamp()) if expires else None,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    # -- deleting ------------------------------------------------------------------------------

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.delete(workspace_key(enterprise_id, team_id, team_id is None))

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        if user_id is None:  # user installations are never kept
            await self.delete(workspace_key(enterprise_id, team_id, team_id is None))

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.delete(workspace_key(enterprise_id, team_id, team_id is None))

    async def delete(self, workspace: str) -> bool:
        """The installation only; `SqlStore.forget_workspace` also deletes the workspace's data."""
        stmt = delete(installations).where(installations.c.workspace == workspace)
        async with self._store._writing() as conn:
            return _rowcount(await conn.execute(stmt)) > 0


class SqlOAuthStateStore(AsyncOAuthStateStore):
    def __init__(self, store: SqlStore, *, expiration_seconds: int = STATE_SECONDS) -> None:
        self._store = store
        self._seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    @property
    def expiration_seconds(self) -> int:
        return self._seconds

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self._store._now()
        async with self._store._writing() as conn:
            # Clicks that were never completed: their states are useless once expired.
            await conn.execute(delete(oauth_states).where(oauth_states.c.expires_at <= now))
            await conn.execute(
                oauth_states.insert().values(
                    state=state, expires_at=now + timedelta(seconds=self._seconds)
                )
            )
        return state

    async def async_consume(self, state: str) -> bool:
        if not state or len(state) > 64:
            return False
        stmt = delete(oauth_states).where(
            oauth_states.c.state == state, oauth_states.c.expires_at > self._store._now()
        )
        async with self._store._writing() as conn:
            return _rowcount(await conn.execute(stmt)) == 1
