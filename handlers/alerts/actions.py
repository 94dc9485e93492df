"""The alert's buttons: snooze or acknowledge the watch, and show who did it on the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.alerts import messages
from handlers.audit import ACKNOWLEDGE, SNOOZE, audit
from handlers.config import HandlerConfig
from handlers.errors import UsageError, slack_error
from handlers.i18n import Translator, locale_for, translator
from handlers.store import Store


def _target(
    body: dict[str, Any], action: dict[str, Any], t: Translator
) -> tuple[str, str, int, Any]:
    """(channel, message ts, location id, licence period) of the clicked alert."""
    parsed = messages.parse_button_value(action.get("value"))
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if parsed is None or not channel or not ts:
        raise UsageError(messages.stale_button(t))
    return channel, ts, parsed[0], parsed[1]


async def _update(
    client: AsyncWebClient,
    body: dict[str, Any],
    channel: str,
    ts: str,
    new_blocks: list[dict[str, Any]],
    t: Translator,
) -> None:
    message = body.get("message") or {}
    await client.chat_update(
        channel=channel, ts=ts, text=message.get("text") or t._("Licence alert"), blocks=new_blocks
    )


def _not_watched(location_id: int, t: Translator) -> UsageError:
    return UsageError(messages.no_longer_watched(location_id, t))


async def on_click(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    store: Store,
    config: HandlerConfig,
    team: str,
    user: str,
    t: Translator,
    respond: AsyncRespond,
) -> None:
    """Snooze (for the button's days) or acknowledge the watch, then show who did it.

    A refusal goes to the person who clicked, in their language; the alert itself stays in its
    own, the watcher's (kept with the watch).
    """
    await ack()
    channel, ts, location_id, period = _target(body, action, t)
    if not messages.names_period(action.get("value")):
        # A button posted before its value named the period: it answers the current one.
        period = await store.current_period(team, location_id)
    now = datetime.now(UTC)
    watch = await store.get_watch(team, channel, location_id)
    alert_t = translator(locale_for(watch.locale if watch else None, config.default_locale))
    days = messages.SNOOZE_DAYS.get(action["action_id"])
    about = f"period {period.isoformat()}" if period else "period unknown"
    if days is None:
        done = await store.acknowledge_watch(
            team, channel, location_id, period=period, user_id=user
        )
        status = messages.acknowledged_status(user, now, alert_t)
        private = messages.acknowledged_status(user, now, t)
        action, target = ACKNOWLEDGE, about
    else:
        until = now + timedelta(days=days)
        done = await store.snooze_watch(
            team, channel, location_id, until=until, user_id=user, period=period
        )
        status = messages.snoozed_status(user, until, now, alert_t)
        private = messages.snoozed_status(user, until, now, t)
        action, target = SNOOZE, f"until {until:%Y-%m-%d %H:%M} UTC, {about}"
    await audit(
        store,
        team,
        user,
        action,
        channel=channel,
        location_id=location_id,
        target=target,
        ok=done,
        reason="" if done else "not watched" if watch is None else "current period answered",
    )
    if watch is None:
        raise _not_watched(location_id, t)
    # Not recorded while watched: the alert is about an earlier period and the current one has
    # its own answer, which stands. That old alert is settled all the same: no more comes for
    # a period the licence has left, so it shows who answered it like any other.
    new_blocks = messages.alert_after_click(
        (body.get("message") or {}).get("blocks") or [],
        status=status,
        location_id=location_id,
        period=period,
        web_url=config.altegio_web_url,
        acknowledged=days is None,
        t=alert_t,
    )
    try:
        await _update(client, body, channel, ts, new_blocks, alert_t)
    except SlackApiError as error:
        if slack_error(error) != "cant_update_message":
            raise
        # A channel shared with another workspace hears each alert once, from one workspace's
        # bot, and only that bot may change its message: this workspace's bot tells the
        # clicker privately what was done for their own workspace's watch.
        await respond(text=private, response_type="ephemeral", replace_original=False)


async def open_altegio(ack: AsyncAck) -> None:
    # A link button still sends Slack an interaction; answer it so the user sees no error.
    await ack()
