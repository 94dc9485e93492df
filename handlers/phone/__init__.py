from slack_bolt.async_app import AsyncApp

from handlers.errors import guarded
from handlers.phone.command import phone_command


def register(app: AsyncApp) -> None:
    app.command("/phone")(guarded(phone_command))
