from slack_bolt.async_app import AsyncApp

from handlers.errors import guarded
from handlers.license.command import license_command


def register(app: AsyncApp) -> None:
    app.command("/license")(guarded(license_command))
