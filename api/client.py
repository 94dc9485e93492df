"""AltegioClient: the four Altegio calls the bot makes, on one long-lived httpx.AsyncClient.

Each call goes through the same path: wait for the rate limiter, send with headers built for this
request alone, retry what is safe to retry, then turn the answer into a model or an AltegioError.
Licence and phone lookups are cached (see cache.py); uploads and logins never are.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from api.cache import SingleFlightCache
from api.config import CacheTTLs, RateConfig, Retries
from api.errors import (
    PARTNER,
    USER,
    AccessDenied,
    AltegioError,
    AuthenticationError,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PartnerTokenRefused,
    RateLimited,
    Unavailable,
)
from api.lanes import LaneLimiter, LoginAttempts, current, lane
from api.models import AltegioUser, ImageUpload, License, PhoneValidation, parse_flag
from api.ratelimit import NoLimit, RateLimiter, TokenBucket

log = logging.getLogger("altegio.api")

ACCEPT = "application/vnd.api.v2+json"
USER_AGENT = f"altegio-bot/0.1 httpx/{httpx.__version__}"
# The partner-only call that tells whether Altegio still accepts the partner token: a phone check
# needs no user token, and any answer but 401 (even "invalid number") means the token passed.
# The number is the documentation's own example.
PARTNER_CHECK_PATH = "validation/validate_phone/" + quote("+71234567890", safe="")
_ENVELOPE_KEYS = {"success", "data", "meta", "errors", "message"}
# Newer pages say team_member, every example still posts to /images/master.
_ENTITIES = {"master": "master", "team_member": "master", "service": "service"}

Entity = Literal["master", "service"]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Token = str | SecretStr | None


def _reveal(token: Token) -> str | None:
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    if token is None:
        return None
    token = token.strip()
    return token or None


def token_fingerprint(token: str | None) -> str | None:
    """A stable, non-reversible name for a token: cache keys must separate users' access without
    keeping the tokens themselves in memory as keys."""
    if token is None:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def mask_phone(phone: str) -> str:
    """Enough of a phone number to follow a log line, not enough to call it."""
    digits = phone.strip()
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, or as an HTTP date; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _message_of(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    meta = body.get("meta")
    candidates = [meta.get("message") if isinstance(meta, dict) else None]
    candidates += [body.get("message"), body.get("error")]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _errors_of(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    meta = body.get("meta")
    value = meta.get("errors") if isinstance(meta, dict) else None
    if value is None:
        value = body.get("errors")
    if isinstance(value, dict):
        return dict(value)
    if value:  # a list or a string: keep it rather than lose Altegio's details
        return {"_": value}
    return {}


def _unwrap(body: Any) -> Any:
    """`data` of an envelope, or the body itself when Altegio sent a bare object."""
    if isinstance(body, dict) and (
        "success" in body or ("data" in body and set(body) <= _ENVELOPE_KEYS)
    ):
        return body.get("data")
    return body


def _describe_body(response: httpx.Response) -> str:
    if not response.content.strip():
        return "an empty body"
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if "html" in kind or response.content.lstrip()[:1] == b"<":
        return f"an HTML page ({kind})"
    return f"a body that is not JSON ({kind})"


def _origin(url: str) -> str:
    # Only scheme and host: the rest of a redirect target may repeat a phone number.
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return ""
    return f"{parsed.scheme}://{parsed.host}" if parsed.host else ""


def _names_partner(message: str | None) -> bool:
    return "partner" in (message or "").lower()


class CallObserver(Protocol):
    """Told of every HTTP attempt and cache lookup, e.g. to count them; must not raise or block.

    `endpoint` is the path without ids ("license", "images/master"); `status` is None when no
    answer came. A lookup answered without a fetch of its own (cached, or joining one in
    flight) is a hit.
    """

    def on_call(self, endpoint: str, status: int | None, seconds: float) -> None: ...

    def on_cache(self, cache: str, hit: bool) -> None: ...


class AltegioClient:
    """One per process. Safe for any number of concurrent callers on one event loop."""

    def __init__(
        self,
        base_url: str,
        partner_token: str | SecretStr,
        *,
        timeout: float = 10.0,
        rate: RateConfig | None = RateConfig(),  # noqa: B008 - frozen, shared safely
        retries: Retries = Retries(),  # noqa: B008
        cache: CacheTTLs = CacheTTLs(),  # noqa: B008
        limiter: RateLimiter | None = None,
        login_attempts: LoginAttempts | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        """`rate` None: no pacing. `limiter` (shared, e.g. through Redis) replaces `rate`'s own
        and belongs to the caller. `login_attempts` throttles each person's logins."""
        partner = _reveal(partner_token)
        if partner is None:
            raise ValueError("the Altegio partner token is empty")
        base = (base_url or "").strip()
        if not base.startswith(("http://", "https://")):
            raise ValueError("the Altegio base URL must start with http:// or https://")
        self._partner = SecretStr(partner)
        self.base_url = base.rstrip("/") + "/"  # httpx then joins relative paths beneath it
        self.timeout = float(timeout)
        self.retries = retries
        self.upstream_calls = 0
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._observer = observer
        self._random = random.Random()  # noqa: S311 - jitter, not security
        if limiter is None:
            limiter = (
                LaneLimiter(
                    TokenBucket(
                        rate.rate,
                        burst=rate.burst,
                        per_minute=rate.per_minute,
                        headroom=rate.headroom,
                    )
                )
                if rate is not None and rate.rate
                else NoLimit()
            )
        self.limiter: RateLimiter = limiter
        self.login_attempts = login_attempts if login_attempts is not None else LoginAttempts()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            follow_redirects=False,
        )
        self._licenses: SingleFlightCache[License] = SingleFlightCache(
            cache.license, negative_ttl=cache.not_found, negative=(NotFound,), maxsize=cache.size
        )
        self._phones: SingleFlightCache[PhoneValidation] = SingleFlightCache(
            cache.phone, negative_ttl=cache.not_found, negative=(NotFound,), maxsize=cache.size
        )
        self._partner_check_ttl = cache.partner_check
        self._partner_verdict: bool | None = None  # the last check's: accepted?
        self._partner_checked_at = 0.0
        self._partner_check: asyncio.Future[bool] | None = None
        self._partner_refused = False

    def __repr__(self) -> str:
        return f"AltegioClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> AltegioClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        """Close the HTTP connections. A limiter passed in belongs to the caller, who closes it."""
        await self._http.aclose()

    def clear_cache(self) -> None:
        self._licenses.clear()
        self._phones.clear()

    # ----------------------------------------------------------------- the four calls

    async def get_license(self, location_id: int, *, user_token: Token = None) -> License:
        """The licence of one location, as seen with `user_token` (or the partner token alone)."""
        location_id = _positive_id(location_id, "location id")
        token = _reveal(user_token)
        key = (location_id, token_fingerprint(token))

        async def fetch() -> License:
            data = await self._call(
                "GET",
                f"license/{location_id}",
                user_token=token,
                extra={"location_id": location_id},
            )
            if isinstance(data, list) and len(data) == 1:
                data = data[0]
            if data is None or data == [] or data == {}:
                raise NotFound(f"Altegio has no licence for location {location_id}", status=200)
            if isinstance(data, dict) and not any(
                k in data for k in ("salon_id", "location_id", "company_id")
            ):
                data = {**data, "salon_id": location_id}
            return _model(License, data, "licence")

        return await self._cached("licence", self._licenses, key, fetch)

    async def validate_phone(self, phone: str) -> PhoneValidation:
        """Altegio's verdict on a phone number such as "+442079460958".

        The documentation does not say whether an invalid number is answered with
        is_valid=false or with an error, so a 400/422 is read as is_valid=false too.
        """
        text = (phone or "").strip()
        if not text:
            raise InvalidInput("the phone number is empty")

        async def fetch() -> PhoneValidation:
            try:
                data = await self._call(
                    "GET",
                    f"validation/validate_phone/{quote(text, safe='')}",
                    log_path=f"validation/validate_phone/{mask_phone(text)}",
                )
            except InvalidInput as error:
                return PhoneValidation(is_valid=False, message=error.message)
            if isinstance(data, bool | int | str):  # a bare verdict instead of an object
                data = {"is_valid": data}
            return _model(PhoneValidation, data, "phone check")

        return await self._cached("phone", self._phones, text, fetch)

    async def authenticate(self, login: str, password: str) -> AltegioUser:
        """Exchange a login (e-mail or phone) and password for the user's token.

        Counts an attempt for the person in the current lane's key (TooManyAttempts past the
        limit), before any request is made."""
        await self.login_attempts.check(current()[1])
        data = await self._call(
            "POST", "auth", json_body={"login": login, "password": password}, login=True
        )
        if not isinstance(data, dict) or not _reveal(data.get("user_token")):
            raise Unavailable("Altegio accepted the login but sent no user token")
        return _model(AltegioUser, data, "user")

    async def upload_image(
        self,
        entity: Entity | str,
        *,
        company_id: int,
        entity_id: int,
        content: bytes,
        filename: str,
        content_type: str,
        user_token: Token,
    ) -> ImageUpload:
        """Bind an image to a team member ("master") or a service, on the user's behalf."""
        kind = _ENTITIES.get(str(entity).strip().lower())
        if kind is None:
            raise ValueError(f"entity must be 'master' or 'service', not {entity!r}")
        token = _reveal(user_token)
        if token is None:
            raise AuthenticationError(
                "uploading an image needs a user token", token=USER, status=None
            )
        company_id = _positive_id(company_id, "location id")
        entity_id = _positive_id(entity_id, f"{kind} id")
        # httpx binds a response and its stream to each other, so a response (and through its
        # request, the image) lives until the garbage collector's next full pass, long after the
        # photo's slot is free: 200 photos shared at once peaked at over 1 GB with one slot. The
        # image goes in a buffer (sharing the bytes, not copying them) that is closed after the
        # call, so nothing left behind holds them; httpx also sends it in 64 KB chunks.
        image = io.BytesIO(content)
        try:
            data = await self._call(
                "POST",
                f"images/{kind}",
                user_token=token,
                files={"image": (filename or "image", image, content_type)},
                data={"company_id": str(company_id), f"{kind}_id": str(entity_id)},
                extra={"location_id": company_id},
            )
        finally:
            image.close()
        if not isinstance(data, dict):
            raise Unavailable("Altegio answered the upload without describing the image")
        return _model(ImageUpload, data, "image upload")

    # ----------------------------------------------------------------- the partner token

    @property
    def partner_token_refused(self) -> bool:
        """The last partner-only check found the partner token refused, and no call has
        succeeded since (for /healthz)."""
        return self._partner_refused

    async def partner_token_accepted(self) -> bool:
        """Whether Altegio accepts the partner token on its own, asked with a partner-only call.

        The verdict is reused for `CacheTTLs.partner_check` seconds, and callers arriving while
        a check is under way share it: a burst of 401s is one check. Raises Unavailable, Busy or
        RateLimited when Altegio could not say.
        """
        if (
            self._partner_verdict is not None
            and time.monotonic() - self._partner_checked_at < self._partner_check_ttl
        ):
            return self._partner_verdict
        if self._partner_check is None:
            self._partner_check = asyncio.ensure_future(self._check_partner())
            self._partner_check.add_done_callback(_retrieve)
        # shield: one caller giving up must not cancel the check the others wait for.
        return await asyncio.shield(self._partner_check)

    async def _check_partner(self) -> bool:
        try:
            # Someone is waiting on the verdict (a reply, a session's fate): the first lane. One
            # attempt: the check is not worth retries, and a failed one changes nothing.
            with lane("login"):
                response = await self._send(
                    "GET",
                    PARTNER_CHECK_PATH,
                    log_path="validation/validate_phone (partner token check)",
                    user_token=None,
                    json_body=None,
                    files=None,
                    data=None,
                    extra={},
                    retry=False,
                )
            accepted = _partner_verdict(response)
            self._partner_verdict, self._partner_checked_at = accepted, time.monotonic()
            if not accepted:
                self._partner_refused = True
                # Once per verdict, however many calls it answers; never the token itself.
                log.error(
                    "Altegio refused the partner token (ALTEGIO_PARTNER_TOKEN) on a "
                    "partner-only check: the bot cannot reach Altegio until it is replaced; "
                    "linked sessions are kept"
                )
            elif self._partner_refused:
                self._partner_accepted_again()
            return accepted
        finally:
            self._partner_check = None

    def _partner_accepted_again(self) -> None:
        self._partner_refused = False
        self._partner_verdict = None  # the next 401 is checked afresh
        log.warning("Altegio accepts the partner token again")

    async def _blame_401(self, message: str | None, *, user_token_sent: bool) -> AltegioError:
        """The error for a 401 outside a login.

        Altegio's messages may be generic ("Unauthorized") or localised, and blaming the user
        token ends a linked session, so that takes proof that the partner token is still good.
        When Altegio cannot say, the check's own error (Unavailable, Busy, ...) is raised and no
        session is touched. A message naming the partner token is checked too, so the operator
        hears of it once per verdict, and believed when the check cannot say.
        """
        named = _names_partner(message)
        try:
            accepted = await self.partner_token_accepted()
        except AltegioError:
            if named:
                return AuthenticationError(message or "", token=PARTNER)
            raise
        if not accepted:
            return PartnerTokenRefused(message or "Altegio refused the partner token")
        if named:  # Altegio's own words: blaming the partner token forgets nobody
            return AuthenticationError(message or "", token=PARTNER)
        default = (
            "Altegio refused the user token; log in again"
            if user_token_sent
            else "Altegio wants a user token for this"
        )
        return AuthenticationError(message or default, token=USER)

    # ----------------------------------------------------------------- plumbing

    async def _cached(
        self, name: str, cache: SingleFlightCache[T], key: Any, fetch: Callable[[], Awaitable[T]]
    ) -> T:
        if self._observer is None:
            return await cache.get(key, fetch)
        fetched = False

        async def counted() -> T:
            nonlocal fetched
            fetched = True
            return await fetch()

        try:
            return await cache.get(key, counted)
        finally:
            self._observer.on_cache(name, not fetched)

    def _headers(self, user_token: str | None, *, json_content: bool) -> dict[str, str]:
        authorization = f"Bearer {self._partner.get_secret_value()}"
        if user_token:
            authorization += f", User {user_token}"
        headers = {"Accept": ACCEPT, "Authorization": authorization, "User-Agent": USER_AGENT}
        if json_content:
            headers["Content-Type"] = "application/json"
        return headers

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads the retries of many callers instead of having them retry in step.
        ceiling = min(self.retries.backoff_max, self.retries.backoff_base * (2**attempt))
        return self._random.uniform(0, ceiling)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        log_path: str | None = None,
        user_token: str | None = None,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        login: bool = False,
    ) -> Any:
        """Send one logical request and return the `data` of a successful answer.

        `login` marks POST /auth, where a refusal means wrong credentials, not a bad token.
        """
        response = await self._send(
            method,
            path,
            log_path=log_path or path,
            user_token=user_token,
            json_body=json_body,
            files=files,
            data=data,
            extra=extra or {},
        )
        status = response.status_code
        if 300 <= status < 400:
            where = _origin(response.headers.get("location", "")) or "elsewhere"
            raise Unavailable(
                f"Altegio redirected the request to {where}; check the Altegio API URL",
                status=status,
            )
        try:
            body = json.loads(response.content) if response.content.strip() else None
            is_json = body is not None
        except ValueError:
            body, is_json = None, False

        if status == 429:
            raise RateLimited(
                _message_of(body) or "Altegio is limiting the bot's requests; try again shortly",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise Unavailable(
                _message_of(body)
                or f"Altegio is not answering properly (HTTP {status} {response.reason_phrase})",
                status=status,
            )
        if not is_json:
            # Altegio itself always answers JSON: anything else came from a proxy or a wrong URL,
            # and must not be read as Altegio's verdict (an HTML 404 is not "no such location").
            raise Unavailable(
                f"Altegio answered HTTP {status} with {_describe_body(response)} instead of JSON",
                status=status,
            )
        message = _message_of(body)
        if 200 <= status < 300:
            if self._partner_refused:  # every call carries the partner token: it works again
                self._partner_accepted_again()
            if isinstance(body, dict) and parse_flag(body.get("success")) is False:
                # Refused despite the 2xx status: read it as the request being wrong.
                status = 400
            else:
                return _unwrap(body)
        if status == 401 and not login:
            raise await self._blame_401(message, user_token_sent=user_token is not None)
        raise _error_for(
            status,
            message,
            _errors_of(body),
            login=login,
            reported_status=response.status_code,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        log_path: str,
        user_token: str | None,
        json_body: Any,
        files: Mapping[str, Any] | None,
        data: Mapping[str, str] | None,
        extra: Mapping[str, Any],
        retry: bool = True,
    ) -> httpx.Response:
        # Only GETs are repeated after a failure that may have reached Altegio: repeating a POST
        # could upload an image twice. Refusals that happened before any work (429, or a
        # connection that never opened) are safe to repeat for every method.
        idempotent = method.upper() in {"GET", "HEAD", "OPTIONS"}
        attempts = self.retries.max_retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            await self.limiter.acquire()
            headers = self._headers(user_token, json_content=files is None)
            fields = {"method": method, "path": log_path, "attempt": attempt + 1, **extra}
            started = time.perf_counter()
            self.upstream_calls += 1
            try:
                response = await self._http.request(
                    method, path, headers=headers, json=json_body, files=files, data=data
                )
            except httpx.UnsupportedProtocol:
                raise Unavailable("the Altegio API URL is not an http(s) URL") from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error = Unavailable(f"Altegio could not be reached ({type(exc).__name__})")
                retryable = True
            except httpx.TimeoutException as exc:
                error = Unavailable(
                    f"Altegio did not answer within {self.timeout:g} s ({type(exc).__name__})"
                )
                retryable = idempotent
            except httpx.RequestError as exc:
                error = Unavailable(f"the connection to Altegio failed ({type(exc).__name__})")
                retryable = idempotent
            else:
                status = response.status_code
                elapsed = (time.perf_counter() - started) * 1000
                if self._observer is not None:
                    self._observer.on_call(_endpoint(path), status, elapsed / 1000)
                log.log(
                    logging.WARNING if status >= 500 or status == 429 else logging.INFO,
                    "altegio %s %s -> %s in %.0f ms",
                    method,
                    log_path,
                    status,
                    elapsed,
                    extra={**fields, "status": status, "latency_ms": round(elapsed, 1)},
                )
                if status == 429 and not last:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    if retry_after is None:
                        delay = self._backoff(attempt)
                    else:
                        delay = min(retry_after, self.retries.retry_after_cap)
                        await _pause(self.limiter, delay)
                    await self._sleep(delay)
                    continue
                if status >= 500 and idempotent and not last:
                    await self._sleep(self._backoff(attempt))
                    continue
                return response

            elapsed = (time.perf_counter() - started) * 1000
            if self._observer is not None:
                self._observer.on_call(_endpoint(path), None, elapsed / 1000)
            log.warning(
                "altegio %s %s failed in %.0f ms: %s",
                method,
                log_path,
                elapsed,
                error.message,
                extra={**fields, "status": None, "latency_ms": round(elapsed, 1)},
            )
            if last or not retryable:
                raise error
            await self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def _partner_verdict(response: httpx.Response) -> bool:
    """What the partner-only check's answer says of the partner token; raises when it says
    nothing (Altegio busy, down, or something else answering in its place)."""
    status = response.status_code
    if status == 401:
        return False  # the partner token was the only one sent
    if status == 429:
        raise RateLimited(
            "Altegio is limiting the bot's requests; try again shortly",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    try:
        is_json = json.loads(response.content) is not None
    except ValueError:
        is_json = False
    # Any other answer of Altegio's own (a verdict on the number, even "invalid") got past the
    # partner token.
    if is_json and (200 <= status < 300 or status in (400, 404, 422)):
        return True
    raise Unavailable(
        f"Altegio's answer (HTTP {status}) did not say whether it accepts the partner token",
        status=status,
    )


def _retrieve(task: asyncio.Future[Any]) -> None:
    # A check whose callers all gave up must not end as "exception never retrieved".
    if not task.cancelled():
        task.exception()


def _endpoint(path: str) -> str:
    """The path up to its first id or value: "license/42" -> "license" (a bounded label)."""
    kept = []
    for part in path.split("/"):
        if not part or any(c.isdigit() or c == "%" for c in part):
            break
        kept.append(part)
    return "/".join(kept) or "other"


async def _pause(limiter: RateLimiter, seconds: float) -> None:
    pause = getattr(limiter, "pause", None)
    if pause is not None:
        await pause(seconds)


def _positive_id(value: Any, what: str) -> int:
    # Checked here because the id becomes part of a URL path or a form field.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(f"the {what} must be a positive whole number")
    return value


_LOGIN_REFUSALS = {400, 401, 403, 404, 422}


def _error_for(
    status: int,
    message: str | None,
    errors: dict[str, Any],
    *,
    login: bool = False,
    reported_status: int | None = None,
) -> AltegioError:
    """The error for a JSON refusal. `status` picks the type, `reported_status` (what the
    server actually sent, if different) is what the error carries."""
    shown = reported_status if reported_status is not None else status
    error = _plain_error_for(status, message, errors)
    if login and status in _LOGIN_REFUSALS:
        # Which status means "wrong password" is not documented; only a message blaming the
        # partner token means the operator, not the user, has something to fix.
        if _names_partner(message):
            error = AuthenticationError(message or "", token=PARTNER)
        else:
            error = InvalidCredentials(
                message or "Altegio did not accept that login and password", errors=errors
            )
    error.status = shown
    return error


def _plain_error_for(status: int, message: str | None, errors: dict[str, Any]) -> AltegioError:
    if status == 401:  # a login's (read by _error_for); any other is AltegioClient._blame_401's
        token = PARTNER if _names_partner(message) else USER
        return AuthenticationError(message or "Altegio refused a token", token=token, status=status)
    if status in (402, 403):
        return AccessDenied(message or "Altegio denied access", status=status)
    if status == 404:
        return NotFound(message or "Altegio has no such resource", status=status)
    if status in (400, 409, 413, 415, 422):
        return InvalidInput(message or "Altegio rejected the request", status=status, errors=errors)
    if status == 408:
        return Unavailable(message or "Altegio timed out", status=status)
    return AltegioError(message or f"Altegio answered HTTP {status}", status=status)


def _model(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Locations and reasons only: the input may hold a user token.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise Unavailable(f"Altegio sent a {what} the bot could not read ({problems})") from None
