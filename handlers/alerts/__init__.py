"""Licence expiry alerts: watches (/license watch) and the buttons on an alert.

The sweep that posts the alerts is batch work, not a listener: it lives in the `sweep` package.
"""

from handlers.alerts import actions, messages
from handlers.registry import Listeners


def register(listeners: Listeners) -> None:
    for button in (messages.SNOOZE_1D, messages.SNOOZE_7D, messages.ACKNOWLEDGE):
        listeners.action(button, actions.on_click)
    listeners.action(messages.OPEN_ALTEGIO, actions.open_altegio)
