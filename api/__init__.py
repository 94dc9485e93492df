"""Altegio B2B API client: typed models, errors, retries, rate limiting and caching.

Knows nothing of Slack; handlers get an `AltegioClient` through the Bolt context.
"""

from api.cache import SingleFlightCache
from api.client import AltegioClient, mask_phone, parse_retry_after, token_fingerprint
from api.errors import (
    AccessDenied,
    AltegioError,
    AuthenticationError,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    Unavailable,
)
from api.models import (
    AltegioUser,
    ImageGroup,
    ImageUpload,
    ImageVersion,
    License,
    LicenseOption,
    PhoneValidation,
)
from api.ratelimit import NoLimit, RateLimiter, RedisRateLimiter, TokenBucket, build_limiter

__all__ = [
    "AccessDenied",
    "AltegioClient",
    "AltegioError",
    "AltegioUser",
    "AuthenticationError",
    "ImageGroup",
    "ImageUpload",
    "ImageVersion",
    "InvalidCredentials",
    "InvalidInput",
    "License",
    "LicenseOption",
    "NoLimit",
    "NotFound",
    "PhoneValidation",
    "RateLimited",
    "RateLimiter",
    "RedisRateLimiter",
    "SingleFlightCache",
    "TokenBucket",
    "Unavailable",
    "build_limiter",
    "mask_phone",
    "parse_retry_after",
    "token_fingerprint",
]
