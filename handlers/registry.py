"""The one way to register a listener: `Listeners(app)`, then `.command`, `.action`, `.view`,
`.event` or `.message`. Every listener goes through `guarded`, so none can skip it.

A listener declares the arguments it uses by name; Bolt passes each one (see `bot/app.py`'s
`Inject` for the bot's own): `altegio` (api.AltegioClient), `store` (handlers.store.Store),
`config` (handlers.config.HandlerConfig), `team` and `user` (ids, "" when Slack sent none), and
Bolt's own: `ack`, `respond`, `client`, `body`, `command`, `action`, `view`, `event`,
`channel_id`, `context`; and `t`, the `handlers.i18n.Translator` for the language of the
person who acted (handlers/reader.py), which every sentence they read goes through.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from handlers.errors import RETRY_COMMAND_ACTION, answer_error
from handlers.reader import reader
from handlers.refusals import sending_as
from handlers.resources import Closer, close_with
from handlers.retry import check_retryable, retry_listener, value_of

Listener = Callable[..., Awaitable[Any]]
Constraint = str | re.Pattern[str] | dict[str, Any]


def guarded(listener: Listener, *, retry_as: str | None = None) -> Listener:
    """Answer a listener's error ourselves instead of letting it reach Bolt.

    Bolt resets its ack when a listener raises; if that happens within its 10 ms ack poll,
    Slack gets a 404 for a request that was in fact acknowledged. So errors after the ack are
    answered here, by the same handler Bolt would use. `retry_as` (a command's name): an answer
    saying Altegio is busy gets a Try again button that runs the command again (handlers/retry.py).
    """
    names = [n for n in inspect.getfullargspec(listener).args if n not in ("self", "cls")]
    wants_t = "t" in names
    # Answering an error needs `context`, and offering a retry the command's text, even when
    # the listener itself does not ask for them: Bolt passes what the signature names.
    extra = [n for n in ("context", "command" if retry_as else "") if n and n not in names]

    async def run(**kwargs: Any) -> Any:
        context = kwargs["context"]
        command = kwargs.get("command") or {}
        for name in extra:
            kwargs.pop(name)
        # What this listener sends is named by it when Slack refuses it (handlers/refusals.py).
        with sending_as(run.__name__):
            try:
                if wants_t:
                    kwargs["t"] = await reader(context)
                return await listener(**kwargs)
            except Exception as error:
                retry = value_of(retry_as, str(command.get("text") or "")) if retry_as else None
                await answer_error(error, context, retry=retry)
                return None

    # `t` is ours, not Bolt's: Bolt passes the others the signature names.
    wanted = [n for n in names if n != "t"] + extra
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in wanted]
    )
    run.__name__ = run.__qualname__ = getattr(listener, "__name__", "listener")
    return run


class Listeners:
    """Registers one feature's listeners on the app, each behind `guarded`."""

    def __init__(self, app: AsyncApp) -> None:
        self._app = app
        self._retryable: dict[str, Listener] = {}

    def close_with(self, closer: Closer) -> None:
        """A client the feature opened, closed when whoever runs the app closes it."""
        close_with(self._app, closer)

    def command(self, name: str, listener: Listener, *, retry: bool = False) -> None:
        """`retry`: an answer saying Altegio is busy offers a Try again button that runs the
        command again with the same text (handlers/retry.py); for commands that only look
        things up or are harmless to repeat."""
        if retry:
            check_retryable(name, listener)
            if not self._retryable:
                action = retry_listener(self._retryable)  # reads the dict as it grows
                self._app.action(RETRY_COMMAND_ACTION)(guarded(action))
            self._retryable[name] = listener
        self._app.command(name)(guarded(listener, retry_as=name if retry else None))

    def action(self, constraint: Constraint, listener: Listener) -> None:
        self._app.action(constraint)(guarded(listener))

    def view(self, callback_id: Constraint, listener: Listener) -> None:
        self._app.view(callback_id)(guarded(listener))

    def event(self, constraint: str | dict[str, Any], listener: Listener) -> None:
        """`constraint` names what the listener handles ({"type": ..., "subtype": ...}): Bolt
        runs the first listener that matches, so a listener must match only what it handles."""
        self._app.event(constraint)(guarded(listener))
