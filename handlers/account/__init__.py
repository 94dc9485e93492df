"""Linking Slack users to their Altegio accounts: /altegio, the login modal and App Home."""

from handlers.account.command import altegio_command, logout_button
from handlers.account.home import home_opened
from handlers.account.login import login_button, login_submission
from handlers.account.messages import LOGIN_CALLBACK, LOGOUT_ACTION
from handlers.blocks import LOGIN_ACTION
from handlers.registry import Listeners


def register(listeners: Listeners) -> None:
    listeners.command("/altegio", altegio_command)
    listeners.action(LOGIN_ACTION, login_button)
    listeners.action(LOGOUT_ACTION, logout_button)
    # The submission answers every failure itself, on the form; `guarded` catches the rest.
    listeners.view(LOGIN_CALLBACK, login_submission)
    listeners.event("app_home_opened", home_opened)
