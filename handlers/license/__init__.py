from handlers.license.command import license_command
from handlers.registry import Listeners


def register(listeners: Listeners) -> None:
    listeners.command("/license", license_command, retry=True)
