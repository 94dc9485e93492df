"""The Slack workspace behind the fake Web API: its data and one function per method.

Kept apart from the HTTP side (slack.py) so that adding a method is one function and one line
in `api_methods()`. Answers follow Slack: `ok: true` with the documented fields, or `ok: false`
with Slack's error code for the mistakes a bot can make.
"""

from __future__ import annotations

import itertools
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_TOKEN = "xoxb-test-token"
# The app's credentials for "Add to Slack" (oauth.v2.access).
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret"
TEAM_ID = "T0TEST"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0TEST"
FILETYPES = {
    "image/jpeg": ("jpg", "JPEG"),
    "image/png": ("png", "PNG"),
    "image/gif": ("gif", "GIF"),
    "application/pdf": ("pdf", "PDF"),
}


@dataclass
class Identity:
    """Who a bot token speaks for: auth.test's answer, and the workspace its calls act in."""

    team_id: str | None
    team_name: str
    bot_user_id: str
    bot_id: str
    enterprise_id: str | None = None
    org_wide: bool = False  # an Enterprise Grid org-wide install: one token for the whole org

    @property
    def workspace(self) -> str:
        return (self.enterprise_id if self.org_wide else self.team_id) or ""


@dataclass
class FakeFile:
    id: str
    name: str
    mimetype: str
    content: bytes
    size: int
    user: str
    login_page: bool = False  # serve the sign-in page even with the token (no files:read)
    redirect: bool = False  # 302 to another host that serves the bytes
    team: str = ""  # the workspace it was shared in: only that workspace's token reads it
    created: int = field(default_factory=lambda: int(time.time()))


class SlackWorkspace:
    """Data and Web API methods; the server supplies `url` (for file links)."""

    url: str

    def __init__(self, bot_token: str = BOT_TOKEN, team_id: str = TEAM_ID) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self._counter = itertools.count(1)
        self._reset_data()

    def _reset_data(self) -> None:
        self.valid_tokens = {self.bot_token}
        self.identities: dict[str, Identity] = {
            self.bot_token: Identity(self.team_id, "Test Team", BOT_USER_ID, BOT_ID)
        }
        self.workspaces: dict[str, Identity] = {}  # installable, by workspace key
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (workspace key, installer)
        self.current: Identity | None = None  # the identity of the call being answered
        self.messages: list[dict[str, Any]] = []  # chat.postMessage, kept current by chat.update
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> the published Home view
        self.reactions: list[dict[str, str]] = []
        self.channels: dict[str, dict[str, Any]] = {}
        # (workspace, channel id) -> its members' user ids, for users.conversations.
        self.members: dict[tuple[str, str], set[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._home_teams: dict[str, str] = {}  # users from another workspace (Slack Connect)
        self.files: dict[str, FakeFile] = {}
        self._used_triggers: set[str] = set()

    # -- data set-up ----------------------------------------------------------------------
    def add_channel(
        self,
        channel_id: str,
        name: str = "general",
        *,
        is_private: bool = False,
        is_member: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_private": is_private,
            "is_member": is_member,
            "is_archived": False,
            **extra,
        }
        self.channels[channel_id] = channel
        return channel

    def join(self, channel_id: str, *users: str, team: str | None = None) -> None:
        """`users` become members of the conversation (of workspace `team`)."""
        self.members.setdefault((team or self.team_id, channel_id), set()).update(users)

    def leave(self, channel_id: str, *users: str, team: str | None = None) -> None:
        self.members.get((team or self.team_id, channel_id), set()).difference_update(users)

    def add_user(
        self,
        user_id: str,
        name: str = "someone",
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "Europe/London",
        is_admin: bool = False,
        locale: str = "en-US",
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        team_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """`is_restricted`/`is_ultra_restricted`: a guest. `team_id`: someone from that other
        workspace (Slack Connect), answered as such whoever asks; otherwise users.info names the
        asking bot's workspace."""
        real = real_name or name.title()
        if team_id is not None:
            self._home_teams[user_id] = team_id
        else:
            self._home_teams.pop(user_id, None)
        user = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name,
            "real_name": real,
            "deleted": False,
            "is_bot": False,
            "is_admin": is_admin,
            "is_restricted": is_restricted,
            "is_ultra_restricted": is_ultra_restricted,
            "locale": locale,
            "tz": tz,
            "tz_offset": 0,
            "profile": {
                "real_name": real,
                "display_name": name,
                "email": email or f"{name}@example.com",
            },
            **extra,
        }
        self.users[user_id] = user
        return user

    # -- "Add to Slack" -------------------------------------------------------------------
    def add_workspace(
        self,
        team_id: str | None,
        name: str | None = None,
        *,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> Identity:
        """A workspace (or, `org_wide`, an Enterprise Grid org) that can install the app."""
        identity = Identity(
            team_id=None if org_wide else team_id,
            team_name=name or f"Workspace {team_id or enterprise_id}",
            bot_user_id="",
            bot_id="",
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        key = identity.workspace
        identity.bot_user_id, identity.bot_id = f"U{key}BOT", f"B{key}"
        self.workspaces[key] = identity
        return identity

    def install_code(self, workspace: str, installer: str = "U0ADMIN") -> str:
        """What Slack puts in the redirect once `installer` approved the app in `workspace`."""
        if workspace not in self.workspaces:
            raise KeyError(f"no workspace {workspace}: add_workspace first")
        code = f"code-{workspace}-{uuid.uuid4().hex[:12]}"
        self._codes[code] = (workspace, installer)
        return code

    def tokens_of(self, workspace: str) -> list[str]:
        """Bot tokens issued to `workspace` that Slack still accepts, oldest first."""
        return [
            t
            for t, i in self.identities.items()
            if i.workspace == workspace and t in self.valid_tokens
        ]

    def token_of(self, workspace: str) -> str:
        tokens = self.tokens_of(workspace)
        if not tokens:
            raise KeyError(f"workspace {workspace} has no valid bot token")
        return tokens[-1]

    def revoke(self, workspace: str) -> None:
        """Uninstalled: every token of `workspace` is refused from now on."""
        self.valid_tokens -= set(self.tokens_of(workspace))

    def identity(self, token: str | None) -> Identity | None:
        return self.identities.get(token or "")

    def oauth_v2_access(self, client_id: str, client_secret: str, code: str) -> dict[str, Any]:
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return {"ok": False, "error": "invalid_client_id"}
        found = self._codes.pop(code, None)  # a code works once
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        key, installer = found
        identity = self.workspaces[key]
        token = f"xoxb-{key}-{uuid.uuid4().hex[:16]}"
        self.identities[token] = identity
        self.valid_tokens.add(token)
        enterprise = (
            {"id": identity.enterprise_id, "name": f"Org {identity.enterprise_id}"}
            if identity.enterprise_id
            else None
        )
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": installer},
            "scope": "commands,chat:write,im:write,files:read,channels:history,groups:history,"
            "reactions:write,channels:read,groups:read,im:read,mpim:read,users:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": identity.bot_user_id,
            "team": None
            if identity.org_wide
            else {"id": identity.team_id, "name": identity.team_name},
            "enterprise": enterprise,
            "is_enterprise_install": identity.org_wide,
        }

    def add_file(
        self,
        content: bytes,
        name: str = "photo.jpg",
        mimetype: str | None = None,
        *,
        user: str = "U0USER",
        size: int | None = None,
        file_id: str | None = None,
        login_page: bool = False,
        redirect: bool = False,
        team: str | None = None,
    ) -> dict[str, Any]:
        """Host a file; returns its Slack file object (as in events and files.info).

        `size` overrides the declared size; `login_page` serves Slack's sign-in page even with
        the token (as when files:read is missing); `redirect` sends the download to
        `foreign_url`, which records whether an Authorization header followed it.
        """
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        fake_file = FakeFile(
            id=file_id or f"F{next(self._counter):08d}",
            name=name,
            mimetype=mimetype,
            content=content,
            size=len(content) if size is None else size,
            user=user,
            login_page=login_page,
            redirect=redirect,
            team=team or self.team_id,
        )
        self.files[fake_file.id] = fake_file
        return self.file_object(fake_file.id)

    def file_object(self, file_id: str) -> dict[str, Any]:
        f = self.files[file_id]
        filetype, pretty = FILETYPES.get(f.mimetype, (f.name.rpartition(".")[2], f.mimetype))
        private = f"{self.url}/files-pri/{f.team}-{f.id}"
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.name,
            "title": f.name,
            "mimetype": f.mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": f.user,
            "user_team": f.team,
            "editable": False,
            "size": f.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "url_private": f"{private}/{f.name}",
            "url_private_download": f"{private}/download/{f.name}",
            "permalink": f"https://test.slack.com/files/{f.user}/{f.id}/{f.name}",
        }

    def api_methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "users.conversations": self._users_conversations,
            "users.info": self._users_info,
            "files.info": self._files_info,
        }

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._counter):06d}"

    @property
    def _team(self) -> str:
        """The workspace key of the call being answered."""
        return self.current.workspace if self.current else self.team_id

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        me = self.current or Identity(self.team_id, "Test Team", BOT_USER_ID, BOT_ID)
        answer: dict[str, Any] = {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": me.team_name,
            "user": "altegio-bot",
            "team_id": me.team_id or me.enterprise_id,
            "user_id": me.bot_user_id,
            "bot_id": me.bot_id,
            "is_enterprise_install": me.org_wide,
        }
        if me.enterprise_id:
            answer["enterprise_id"] = me.enterprise_id
        return answer

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        if channel[:1] in ("U", "W"):  # a user id: Slack posts to the DM and names it
            channel = "D" + channel[1:]
        message = {
            "type": "message",
            "team": self._team,
            "user": self.current.bot_user_id if self.current else BOT_USER_ID,
            "bot_id": self.current.bot_id if self.current else BOT_ID,
            "ts": self._ts(),
            **{
                k: args[k]
                for k in ("text", "blocks", "attachments", "thread_ts", "metadata")
                if k in args
            },
        }
        self.messages.append({"channel": channel, **message})
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        ts = self._ts()
        self.ephemeral.append({**args, "message_ts": ts, "team": self._team})
        return {"ok": True, "message_ts": ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        changes = {k: args[k] for k in ("text", "blocks", "attachments") if k in args}
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts:
                if message.get("team", self._team) != self._team:
                    # Another workspace's bot posted it (a shared channel): not ours to change.
                    return {"ok": False, "error": "cant_update_message"}
                message.update(changes)
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, **changes}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": args.get("text", ""),
            "message": message,
        }

    def _store_view(self, view: Any, view_id: str | None = None) -> dict[str, Any] | None:
        if not isinstance(view, dict) or "type" not in view:
            return None
        view_id = view_id or f"V{next(self._counter):08d}"
        stored = {
            "id": view_id,
            "team_id": self._team,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            "private_metadata": "",
            "callback_id": "",
            "root_view_id": view_id,
            "previous_view_id": None,
            **view,
        }
        self.views[view_id] = stored
        return stored

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        if not trigger:
            return {"ok": False, "error": "invalid_arguments"}
        if trigger in self._used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        view = self._store_view(args.get("view"))
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        self._used_triggers.add(trigger)
        return {"ok": True, "view": view}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id:
            external = args.get("external_id")
            view_id = next(
                (k for k, v in self.views.items() if external and v.get("external_id") == external),
                None,
            )
        if not view_id:
            return {"ok": False, "error": "not_found"}
        old = self.views.get(view_id)
        if old and args.get("hash") and args["hash"] != old["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view = self._store_view(args.get("view"), view_id)
        return {"ok": True, "view": view} if view else {"ok": False, "error": "invalid_arguments"}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        view = self._store_view(args.get("view")) if user_id else None
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        self.home_views[str(user_id)] = view
        return {"ok": True, "view": view}

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        reaction = {k: str(args.get(k) or "") for k in ("channel", "timestamp", "name")}
        if not all(reaction.values()):
            return {"ok": False, "error": "invalid_arguments"}
        if reaction in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(reaction)
        return {"ok": True}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel") or "")
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        channel = self.channels.get(channel_id) or {
            "id": channel_id,
            "name": f"channel-{channel_id.lower()}",
            "is_channel": channel_id.startswith("C"),
            "is_group": channel_id.startswith("G"),
            "is_im": channel_id.startswith("D"),
            "is_private": not channel_id.startswith("C"),
            "is_member": True,
            "is_archived": False,
        }
        return {"ok": True, "channel": channel}

    def _conversation_type(self, channel_id: str) -> str:
        channel = self.channels.get(channel_id)
        if channel is not None:
            if channel.get("is_im"):
                return "im"
            if channel.get("is_mpim"):
                return "mpim"
            return "private_channel" if channel.get("is_private") else "public_channel"
        return {"C": "public_channel", "G": "private_channel", "D": "im"}.get(
            channel_id[:1], "private_channel"
        )

    def _bot_in(self, channel_id: str) -> bool:
        return bool(self.channels.get(channel_id, {}).get("is_member", True))

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel") or "")
        members = self.members.get((self._team, channel_id))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        if self._conversation_type(channel_id) != "public_channel" and not self._bot_in(channel_id):
            return {"ok": False, "error": "channel_not_found"}
        return self._page(sorted(members), args, "members")

    def _users_conversations(self, args: dict[str, Any]) -> dict[str, Any]:
        """Like Slack with a bot token and `user`: that user's public channels, and the private
        channels, DMs and group DMs the bot is in too; `types` filters, `limit`/`cursor` page."""
        user = str(args.get("user") or "")
        types = str(args.get("types") or "public_channel").split(",")
        found = [
            {"id": channel_id, **self.channels.get(channel_id, {})}
            for (team, channel_id), members in sorted(self.members.items())
            if team == self._team
            and user in members
            and self._conversation_type(channel_id) in types
            and (
                self._conversation_type(channel_id) == "public_channel" or self._bot_in(channel_id)
            )
        ]
        return self._page(found, args, "channels")

    def _page(self, items: list[Any], args: dict[str, Any], key: str) -> dict[str, Any]:
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(args.get("cursor") or 0)
        end = start + limit
        return {
            "ok": True,
            key: items[start:end],
            "response_metadata": {"next_cursor": str(end) if end < len(items) else ""},
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = self.users.get(user_id) or self.add_user(user_id, f"user-{user_id.lower()}")
        user = {**user, "team_id": self._home_teams.get(user_id, self._team)}
        if args.get("include_locale") not in (True, "true", "1", 1):
            user.pop("locale", None)  # Slack sends it only when asked
        return {"ok": True, "user": user}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = str(args.get("file") or "")
        if file_id not in self.files or self.files[file_id].team != self._team:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "file": self.file_object(file_id),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }
