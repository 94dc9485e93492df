"""Scripted misbehaviour shared by the fakes: wrong statuses, junk bodies, stalls, cut connections.

A rule matches requests by HTTP method and a key (a path for Altegio, a method name for Slack)
and applies to the next `times` of them (`None`: to all, until `reset()`). Pure delays add up;
of the rules that answer for the server, the oldest matching one wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

# Bodies that a proxy, a crash or a half-written reply produce instead of JSON.
JUNK_BODIES: dict[str, tuple[bytes, str | None]] = {
    "html": (
        b"<html><head><title>502 Bad Gateway</title></head><body><center>"
        b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        "text/html",
    ),
    "empty": (b"", None),
    "garbage": (b"\x00\x9f\x92not json{{", "application/json"),
    "truncated": (b'{"success": true, "data": {"id": 1, "na', "application/json"),
}


@dataclass
class Rule:
    match: Callable[[str, str], bool]  # (HTTP method, key) -> applies?
    times: int | None = 1
    status: int | None = None  # None: only delays, the real handler still answers
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without any response
    hits: int = 0

    @property
    def answers(self) -> bool:
        return self.drop or self.status is not None

    def response(self) -> web.Response:
        assert self.status is not None
        response = web.Response(status=self.status, body=self.body, headers=self.headers)
        if self.content_type:
            response.content_type = self.content_type
        return response


def matcher(
    key: str | None, *, method: str | None = None, exact: bool = False
) -> Callable[[str, str], bool]:
    """Match every request (`key=None`), or those whose key equals/contains `key`."""

    def match(http_method: str, request_key: str) -> bool:
        if method is not None and http_method.upper() != method.upper():
            return False
        if key is None:
            return True
        return request_key == key if exact else key in request_key

    return match


class RuleBook:
    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, http_method: str, key: str) -> tuple[float, Rule | None]:
        """Consume the rules for one request: (total extra delay, the rule that answers)."""
        delay, answer = 0.0, None
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if not rule.match(http_method, key):
                    continue
                if rule.answers:
                    if answer is not None:
                        continue
                    answer = rule
                delay += rule.delay
                rule.hits += 1
        return delay, answer
