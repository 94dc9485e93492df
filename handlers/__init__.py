"""Slack listeners, one package per feature. `register(app)` wires them all."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    from handlers import account, alerts, errors, images, license, phone

    errors.register(app)
    account.register(app)
    license.register(app)
    alerts.register(app)
    phone.register(app)
    images.register(app)  # last: its catch-all `message` listener must not shadow others
