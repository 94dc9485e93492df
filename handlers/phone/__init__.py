from handlers.phone.command import phone_command
from handlers.registry import Listeners


def register(listeners: Listeners) -> None:
    listeners.command("/phone", phone_command, retry=True)
