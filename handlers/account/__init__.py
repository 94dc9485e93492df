"""Linking Slack users to their Altegio accounts: /altegio, the login modal and App Home."""

from slack_bolt.async_app import AsyncApp

from handlers.account.command import altegio_command, logout_button
from handlers.account.home import home_opened
from handlers.account.login import login_button, login_submission
from handlers.account.messages import LOGIN_CALLBACK, LOGOUT_ACTION
from handlers.blocks import LOGIN_ACTION
from handlers.errors import guarded


def register(app: AsyncApp) -> None:
    app.command("/altegio")(guarded(altegio_command))
    app.action(LOGIN_ACTION)(guarded(login_button))
    app.action(LOGOUT_ACTION)(guarded(logout_button))
    # The submission answers every failure itself, on the form; guarded catches the rest.
    app.view(LOGIN_CALLBACK)(guarded(login_submission))
    app.event("app_home_opened")(guarded(home_opened))
