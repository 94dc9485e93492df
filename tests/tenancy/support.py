"""A member of one installed workspace, sending what Slack would send from there."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.altegio_data import FakeUser
from tests.fakes.signing import (
    USER_ID,
    app_home_opened_event,
    block_actions,
    event_callback,
    slash_command,
    text_inputs,
    view_submission,
)

PASSWORD = "secret"  # FakeAltegio.add_user's


def text_of(message: dict[str, Any]) -> str:
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        if block.get("text"):
            parts.append(str(block["text"].get("text", "")))
        parts += [f["text"] for f in block.get("fields", [])]
        for element in block.get("elements", []):
            if isinstance(element, dict):
                text = element.get("text")
                parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


@dataclass
class Member:
    """`user` of workspace `team` (of org `enterprise_id`; `org_wide`: the org installed it)."""

    slack: SlackSender
    fake: FakeSlack
    team: str
    user: str = USER_ID
    enterprise_id: str | None = None
    org_wide: bool = False

    @property
    def workspace(self) -> str:
        """The key the bot keeps this member's rows under."""
        return (self.enterprise_id if self.org_wide else self.team) or ""

    def _org(self) -> dict[str, Any]:
        if not self.enterprise_id:
            return {}
        return {"enterprise_id": self.enterprise_id, "org_wide": self.org_wide}

    async def command(
        self, command: str, text: str = "", *, channel: str = "C0OPS", **extra: str
    ) -> dict[str, Any]:
        """The private reply to a slash command."""
        url = self.fake.response_url()
        org = (
            {
                "enterprise_id": self.enterprise_id,
                "is_enterprise_install": str(self.org_wide).lower(),
            }
            if self.enterprise_id
            else {}
        )
        signed = slash_command(
            command,
            text,
            user_id=self.user,
            team_id=self.team,
            channel_id=channel,
            response_url=url,
            secret=self.slack.secret,
            **org,
            **extra,
        )
        response = await self.slack.post(signed)
        assert response.status_code == 200, response.text
        (reply,) = await self.fake.wait_for_response(url, timeout=15)
        return reply

    async def login(self, altegio_user: FakeUser) -> None:
        trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
        url = self.fake.response_url()
        signed = slash_command(
            "/altegio",
            "login",
            user_id=self.user,
            team_id=self.team,
            trigger_id=trigger,
            response_url=url,
            **(
                {"enterprise_id": self.enterprise_id, "is_enterprise_install": "true"}
                if self.org_wide
                else {}
            ),
        )
        assert (await self.slack.post(signed)).status_code == 200
        (call,) = await self.fake.wait_for("views.open", trigger_id=trigger, timeout=10)
        assert call.ok and call.team == self.workspace  # opened with this workspace's token
        view = call.args["view"]
        submitted = await self.slack.post(
            view_submission(
                view["callback_id"],
                text_inputs({"login": altegio_user.login, "password": PASSWORD}),
                user_id=self.user,
                team_id=self.team,
                private_metadata=view["private_metadata"],
                **self._org(),
            )
        )
        assert submitted.status_code == 200 and submitted.text == "", submitted.text

    async def click(self, action: dict[str, Any], **kwargs: Any) -> None:
        signed = block_actions(
            action, user_id=self.user, team_id=self.team, **self._org(), **kwargs
        )
        assert (await self.slack.post(signed)).status_code == 200

    async def event(self, event: dict[str, Any]) -> None:
        signed = event_callback(event, team_id=self.team, **self._org())
        assert (await self.slack.post(signed)).status_code == 200

    async def open_home(self) -> dict[str, Any]:
        before = len(self.fake.calls("views.publish", user_id=self.user))
        await self.event(app_home_opened_event(self.user))
        calls = await self.fake.wait_for("views.publish", before + 1, timeout=10, user_id=self.user)
        call = calls[-1]
        assert call.ok and call.team == self.workspace
        return call.args["view"]


def altegio_user(fake_altegio: FakeAltegio, login: str, name: str) -> FakeUser:
    return fake_altegio.add_user(login, name=name)
