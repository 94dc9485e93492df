"""The alert's buttons: snooze or acknowledge the watch, and show who did it on the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.alerts import messages
from handlers.deps import deps, team_of
from handlers.errors import UsageError


def _target(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str, int, Any]:
    """(channel, message ts, location id, licence period) of the clicked alert."""
    parsed = messages.parse_button_value(action.get("value"))
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if parsed is None or not channel or not ts:
        raise UsageError("That button no longer matches an alert I can update.")
    return channel, ts, parsed[0], parsed[1]


async def _update(
    client: AsyncWebClient,
    body: dict[str, Any],
    channel: str,
    ts: str,
    new_blocks: list[dict[str, Any]],
) -> None:
    message = body.get("message") or {}
    await client.chat_update(
        channel=channel, ts=ts, text=message.get("text") or "Licence alert", blocks=new_blocks
    )


def _not_watched(location_id: int) -> UsageError:
    return UsageError(
        f"This channel no longer watches location {location_id}, so there is nothing to change. "
        f"`/license watch {location_id}` starts again."
    )


async def snooze(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    channel, ts, location_id, period = _target(body, action)
    d = deps(context)
    user = context.user_id or ""
    now = datetime.now(UTC)
    until = now + timedelta(days=messages.SNOOZE_DAYS[action["action_id"]])
    if not await d.store.snooze_watch(
        team_of(context), channel, location_id, until=until, user_id=user
    ):
        raise _not_watched(location_id)
    new_blocks = messages.alert_after_click(
        (body.get("message") or {}).get("blocks") or [],
        status=messages.snoozed_status(user, until, now),
        location_id=location_id,
        period=period,
        web_url=d.config.altegio_web_url,
        acknowledged=False,
    )
    await _update(client, body, channel, ts, new_blocks)


async def acknowledge(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    channel, ts, location_id, period = _target(body, action)
    d = deps(context)
    user = context.user_id or ""
    if not await d.store.acknowledge_watch(
        team_of(context), channel, location_id, period=period, user_id=user
    ):
        raise _not_watched(location_id)
    new_blocks = messages.alert_after_click(
        (body.get("message") or {}).get("blocks") or [],
        status=messages.acknowledged_status(user, datetime.now(UTC)),
        location_id=location_id,
        period=period,
        web_url=d.config.altegio_web_url,
        acknowledged=True,
    )
    await _update(client, body, channel, ts, new_blocks)


async def open_altegio(ack: AsyncAck, context: AsyncBoltContext) -> None:
    # A link button still sends Slack an interaction; answer it so the user sees no error.
    await ack()
