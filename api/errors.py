"""What can go wrong when talking to Altegio, as exception types handlers can map to sentences.

Every error carries `.message` (Altegio's `meta.message` when it sent one, otherwise a plain
description written for people) and `.status` (the HTTP status, or None when no answer came).
Messages never contain tokens, passwords or full phone numbers.
"""

from __future__ import annotations

from typing import Any, Literal

TokenKind = Literal["partner", "user"]
PARTNER: TokenKind = "partner"
USER: TokenKind = "user"


def _rebuild(cls: type[AltegioError], args: tuple[Any, ...], state: dict[str, Any]) -> AltegioError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class AltegioError(Exception):
    """Base class: Altegio refused the request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"

    # Subclasses take keyword-only arguments, which the default pickling cannot replay; the
    # negative cache hands out copies, so copy/pickle must work for every subclass.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class AuthenticationError(AltegioError):
    """401: a token was refused or missing. `.token` says which one, so the bot knows whether the
    operator must fix the partner token or the user must log in again."""

    def __init__(self, message: str, *, token: TokenKind, status: int | None = 401) -> None:
        super().__init__(message, status=status)
        self.token = token


class PartnerTokenRefused(AuthenticationError):
    """A 401 that the partner-only check proved to be the partner token's: every linked session
    is still good. The client has already logged it for the operator, once per check."""

    def __init__(self, message: str, *, status: int | None = 401) -> None:
        super().__init__(message, token=PARTNER, status=status)


class InvalidCredentials(AltegioError):
    """POST /auth refused the login or password."""

    def __init__(
        self, message: str, *, status: int | None = None, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.errors = errors or {}


class AccessDenied(AltegioError):
    """402/403: the token is valid but may not do this (also: the licence must be renewed)."""


class NotFound(AltegioError):
    """404: no such location, entity or resource."""


class InvalidInput(AltegioError):
    """400/422: Altegio rejected the request's data; `.errors` holds per-field details if sent."""

    def __init__(
        self, message: str, *, status: int | None = None, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.errors = errors or {}


class RateLimited(AltegioError):
    """429, still refused after the retries; `.retry_after` is Altegio's hint in seconds."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(AltegioError):
    """Altegio could not answer usefully: 5xx, timeout, connection error, or a body that is not
    Altegio's JSON (an HTML page from a proxy, an empty body)."""


class Busy(AltegioError):
    """The call waited its lane's longest wait for a request slot and was not sent: Altegio's
    budget is taken by others. `.retry_after` (whole seconds) estimates when it frees up."""

    def __init__(self, message: str, *, retry_after: int, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TooManyAttempts(Busy):
    """This person tried to log in too often; `.retry_after` says when the next try is allowed."""
