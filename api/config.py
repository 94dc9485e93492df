"""The Altegio client's settings, grouped by concern (as httpx groups Timeout and Limits)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateConfig:
    """Client-side pacing: `rate` a second, `per_minute` a minute (see ratelimit.py)."""

    rate: float = 5.0
    per_minute: float | None = None
    burst: float = 1.0
    headroom: float = 0.05


@dataclass(frozen=True)
class Retries:
    """How often and how patiently a failed request is repeated (GETs, and refusals before any
    work was done). Backoff is full-jitter exponential from `backoff_base`, capped at
    `backoff_max`; Altegio's Retry-After is honoured up to `retry_after_cap` seconds."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_cap: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")


@dataclass(frozen=True)
class CacheTTLs:
    """Seconds a licence, a phone verdict and a "not found" are kept (0: not cached), and how
    many entries each cache holds; `partner_check`: seconds the verdict of the partner-only
    check (does Altegio accept the partner token?) is reused, so a burst of 401s is one check."""

    license: float = 300.0
    phone: float = 86400.0
    not_found: float = 30.0
    size: int = 10_000
    partner_check: float = 60.0
