"""Altegio B2B API client: typed models, errors, retries, rate limiting and caching.

Knows nothing of Slack; handlers get an `AltegioClient` through the Bolt context.
"""

from api.cache import SingleFlightCache
from api.client import AltegioClient, mask_phone, parse_retry_after, token_fingerprint
from api.config import CacheTTLs, RateConfig, Retries
from api.errors import (
    AccessDenied,
    AltegioError,
    AuthenticationError,
    Busy,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    TooManyAttempts,
    Unavailable,
)
from api.lanes import LaneLimiter, LaneWaits, LoginAttempts, lane, set_lane
from api.models import (
    AltegioUser,
    ImageGroup,
    ImageUpload,
    ImageVersion,
    License,
    LicenseOption,
    PhoneValidation,
)
from api.ratelimit import (
    NoLimit,
    RateLimiter,
    RedisLoginAttempts,
    RedisRateLimiter,
    TokenBucket,
    build_limiter,
    build_login_attempts,
)

__all__ = [
    "AccessDenied",
    "AltegioClient",
    "AltegioError",
    "AltegioUser",
    "AuthenticationError",
    "Busy",
    "CacheTTLs",
    "ImageGroup",
    "ImageUpload",
    "ImageVersion",
    "InvalidCredentials",
    "InvalidInput",
    "LaneLimiter",
    "LaneWaits",
    "License",
    "LicenseOption",
    "LoginAttempts",
    "NoLimit",
    "NotFound",
    "PhoneValidation",
    "RateConfig",
    "RateLimited",
    "RateLimiter",
    "RedisLoginAttempts",
    "RedisRateLimiter",
    "Retries",
    "SingleFlightCache",
    "TokenBucket",
    "TooManyAttempts",
    "Unavailable",
    "build_limiter",
    "build_login_attempts",
    "lane",
    "mask_phone",
    "parse_retry_after",
    "set_lane",
    "token_fingerprint",
]
