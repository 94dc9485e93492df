"""Licence expiry alerts: watches (/license watch), the sweep that posts alerts, their buttons."""

from slack_bolt.async_app import AsyncApp

from handlers.alerts import actions, messages
from handlers.errors import guarded


def register(app: AsyncApp) -> None:
    app.action(messages.SNOOZE_1D)(guarded(actions.snooze))
    app.action(messages.SNOOZE_7D)(guarded(actions.snooze))
    app.action(messages.ACKNOWLEDGE)(guarded(actions.acknowledge))
    app.action(messages.OPEN_ALTEGIO)(guarded(actions.open_altegio))
