"""Clients a feature opens for the life of its app, closed when the process closes the app.

A feature registering listeners may hold a client of its own (the images' download client);
`close_with(app, aclose)` records how to close it, and whoever runs the app calls
`close_all(app)` on shutdown, without knowing what each feature opened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from weakref import WeakKeyDictionary

log = logging.getLogger("altegio.handlers")

Closer = Callable[[], Awaitable[None]]
_CLOSERS: WeakKeyDictionary[object, list[Closer]] = WeakKeyDictionary()


def close_with(app: object, closer: Closer) -> None:
    _CLOSERS.setdefault(app, []).append(closer)


async def close_all(app: object) -> None:
    for closer in _CLOSERS.pop(app, []):
        try:
            await closer()
        except Exception as exc:  # one client failing to close must not keep others open
            log.warning("closing a client failed: %s", type(exc).__name__)
