"""Slack listeners, one package per feature. `register(app)` wires them all.

Each feature's `register(listeners)` adds its listeners through `handlers.registry.Listeners`;
CONTRIBUTING.md walks through adding one.
"""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    from handlers import account, alerts, errors, fallbacks, images, leaving, license, phone
    from handlers.registry import Listeners

    app.error(errors.handle_error)
    listeners = Listeners(app)
    for feature in (account, license, alerts, phone, images, leaving):
        feature.register(listeners)
    fallbacks.register(listeners)  # last: they answer whatever no feature matched
