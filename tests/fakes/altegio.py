"""A fake Altegio B2B API v1 on loopback: licences, phone checks, /auth and images.

Answers take the shapes that ../altegio-api.md documents (the success and error envelopes,
201 for /auth, `"image_group "` with its trailing space), and switches on the object turn on
the other documented variants (bare bodies, `active` as a bool, 422 for invalid phones, ...).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.sandbox.altegio import IMAGE_TYPES, image_group
from tests.fakes.altegio_data import FakeLicense, FakeUser, StoredImage
from tests.fakes.base import FakeServer
from tests.fakes.faults import JUNK_BODIES, Rule, matcher
from tests.fakes.records import RecordedRequest, parse_altegio_authorization, record_of

API_PREFIX = "/api/v1"
PARTNER_TOKEN = "test-partner-token"
DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Authentication needed",
    402: "The licence must be renewed",
    403: "Access denied",
    404: "Not found",
    422: "Validation error",
    429: "Too many requests",
}


class FakeAltegio(FakeServer):
    """`with FakeAltegio() as fake:` serves `fake.base_url` (…/api/v1) until the block ends."""

    def __init__(self, partner_token: str = PARTNER_TOKEN, *, latency: float = 0.0) -> None:
        self.partner_token = partner_token
        self._ids = itertools.count(1001)
        self._rate_lock = threading.Lock()
        self._reset_data()
        super().__init__(latency=latency)

    @property
    def base_url(self) -> str:
        return self.url + API_PREFIX

    def reset(self) -> None:
        super().reset()
        self._reset_data()

    def _reset_data(self) -> None:
        self.licenses: dict[int, FakeLicense] = {}
        self.users: list[FakeUser] = []
        self.uploads: list[StoredImage] = []
        self.phone_verdicts: dict[str, bool] = {}  # exact path value -> is_valid
        self.denials: dict[tuple[int, str | None], tuple[int, str]] = {}
        # Documented variants, defaults as in the published examples.
        self.envelope = True  # False: bare `data` objects on success
        self.active_as_bool = False  # True: `active: true` instead of 1
        self.date_format = "%d.%m.%Y"
        self.image_group_key = "image_group "  # or "image_group"
        self.image_binded = True
        self.invalid_phone_status: int | None = None  # e.g. 422 instead of is_valid false
        self.auth_status = 201
        self.auth_failure_status = 401
        self.license_requires_user = False
        # Altegio revoked the bot's partner token: every call is refused, partner-only ones too.
        self.partner_refused = False
        # Token refusals in other words than the defaults, as a generic ("Unauthorized") or
        # localised ("Доступ запрещён") Altegio answers: naming neither token.
        self.unauthorized_message: str | None = None
        self.assets_url = "https://assets.alteg.io"
        self._rate: tuple[int | None, int | None, float | None] | None = None
        self._accepted: deque[float] = deque()

    # -- data set-up ----------------------------------------------------------------------
    def add_license(
        self,
        location_id: int,
        *,
        plan: str = "Start",
        active: bool = True,
        days_left: int | None = 200,
        deactivation_date: date | str | None = None,
        start_date: date | str | None = None,
        staff_limit: int = 0,
        options: list[dict[str, Any]] | None = None,
        is_paid_rights_model: bool | None = True,
        license_id: int | None = None,
        extra: dict[str, Any] | None = None,
        omit: tuple[str, ...] = (),
    ) -> FakeLicense:
        """Serve a licence for `location_id`, lapsing `days_left` days from today by default.

        Change the returned object later (e.g. a new `deactivation_date`) to renew it.
        """
        today = date.today()
        if deactivation_date is None and days_left is not None:
            deactivation_date = today + timedelta(days=days_left)
        licence = FakeLicense(
            location_id=location_id,
            id=license_id or next(self._ids),
            plan=plan,
            active=active,
            start_date=start_date or today - timedelta(days=165),
            deactivation_date=deactivation_date,
            staff_limit=staff_limit,
            is_paid_rights_model=is_paid_rights_model,
            options=list(options or []),
            extra=dict(extra or {}),
            omit=set(omit),
        )
        self.licenses[location_id] = licence
        return licence

    def add_user(
        self,
        login: str = "manager@example.com",
        password: str = "secret",  # noqa: S107 (a well-known test password)
        *,
        name: str = "Maria Manager",
        user_id: int | None = None,
        user_token: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> FakeUser:
        """An Altegio staff user who can POST /auth with `login` (or e-mail, or phone)."""
        user = FakeUser(
            id=user_id or next(self._ids),
            login=login,
            password=password,
            name=name,
            user_token=user_token or "usr-" + secrets.token_hex(12),
            phone=phone,
            email=email if email is not None else (login if "@" in login else None),
        )
        self.users.append(user)
        return user

    def change_password(self, login: str, password: str) -> str:
        """Like Altegio: a new password regenerates the user token; the old one gets 401."""
        user = next(u for u in self.users if u.answers_to(login))
        user.password = password
        user.user_token = "usr-" + secrets.token_hex(12)
        return user.user_token

    def revoke_token(self, user_token: str) -> None:
        """The token starts answering 401 (as after a password change elsewhere)."""
        for user in self.users:
            if user.user_token == user_token:
                user.user_token = "usr-revoked-" + secrets.token_hex(12)

    def deny(
        self,
        location_id: int,
        *,
        user_token: str | None = None,
        status: int = 403,
        message: str = "No access to this location",
    ) -> None:
        """Refuse `location_id` (licence and images) to one user token, or to every caller."""
        self.denials[(location_id, user_token)] = (status, message)

    def limit_rate(
        self,
        per_second: int | None = 5,
        per_minute: int | None = 200,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Answer 429 past these counts in any sliding second/minute; `(None, None)`: off."""
        with self._rate_lock:
            self._rate = (
                None
                if per_second is None and per_minute is None
                else (per_second, per_minute, retry_after)
            )
            self._accepted.clear()

    def user_by_token(self, token: str | None) -> FakeUser | None:
        return next((u for u in self.users if token and u.user_token == token), None)

    # -- faults ---------------------------------------------------------------------------
    def fail(
        self,
        path: str | None = None,
        *,
        status: int = 500,
        times: int | None = 1,
        message: str | None = None,
        retry_after: float | None = None,
        body: str | bytes = "envelope",
        method: str | None = None,
        delay: float = 0.0,
    ) -> Rule:
        """Answer `status` to the next `times` requests whose path (after /api/v1) contains
        `path` (None: any). `body`: "envelope" (error envelope with `message`), "html",
        "empty", "garbage", "truncated", or raw bytes. `times=None`: until reset()."""
        content_type: str | None = "application/json"
        if body == "envelope":
            raw = json.dumps(self._error_body(message or _default_message(status))).encode()
        elif isinstance(body, bytes):
            raw = body
        else:
            raw, content_type = JUNK_BODIES[body]
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return self.rules.add(
            Rule(
                match=matcher(path, method=method),
                times=times,
                status=status,
                body=raw,
                content_type=content_type,
                headers=headers,
                delay=delay,
            )
        )

    def fail_always(self, path: str | None = None, *, status: int = 500, **kwargs: Any) -> Rule:
        return self.fail(path, status=status, times=None, **kwargs)

    def drop(
        self, path: str | None = None, *, times: int | None = 1, method: str | None = None
    ) -> Rule:
        """Close the connection without a response."""
        return self.rules.add(Rule(match=matcher(path, method=method), times=times, drop=True))

    def delay(
        self,
        seconds: float,
        path: str | None = None,
        *,
        times: int | None = None,
        method: str | None = None,
    ) -> Rule:
        """Stall matching requests by `seconds` before answering normally."""
        return self.rules.add(Rule(match=matcher(path, method=method), times=times, delay=seconds))

    # -- HTTP -----------------------------------------------------------------------------
    def fault_key(self, request: web.Request) -> str:
        return request.path.removeprefix(API_PREFIX)

    def setup_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        app.router.add_get(p + "/license/{location_id}", self._license)
        app.router.add_get(p + "/validation/validate_phone/{phone}", self._validate_phone)
        app.router.add_post(p + "/auth", self._auth)
        app.router.add_post(p + "/images/{entity}", self._upload_image)
        app.router.add_delete(p + "/images/{entity}", self._delete_image)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    def precheck(self, request: web.Request) -> web.StreamResponse | None:
        if self._rate is None:
            return None
        per_second, per_minute, retry_after = self._rate
        now = time.monotonic()
        with self._rate_lock:
            while self._accepted and now - self._accepted[0] > 60:
                self._accepted.popleft()
            last_second = sum(1 for t in self._accepted if now - t <= 1.0)
            if (per_second is not None and last_second >= per_second) or (
                per_minute is not None and len(self._accepted) >= per_minute
            ):
                headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
                return self._error(429, "Too many requests", headers=headers)
            self._accepted.append(now)
        return None

    def _ok(self, data: Any, status: int = 200) -> web.Response:
        body = {"success": True, "data": data, "meta": []} if self.envelope else data
        return web.json_response(body, status=status)

    @staticmethod
    def _error_body(message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"message": message}
        if errors:
            meta["errors"] = errors
        return {"success": False, "data": None, "meta": meta}

    def _error(
        self,
        status: int,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        return web.json_response(self._error_body(message, errors), status=status, headers=headers)

    def _caller(
        self, record: RecordedRequest, *, need_user: bool
    ) -> tuple[FakeUser | None, web.Response | None]:
        """Check the Authorization header: (the acting user or None, or an error response)."""
        partner, user_token = parse_altegio_authorization(record.authorization)
        if record.authorization and partner is None:
            return None, self._refused("Authentication needed: malformed Authorization header")
        if partner != self.partner_token or self.partner_refused:
            return None, self._refused("Partner token is missing or invalid")
        if user_token is None:
            if need_user:
                return None, self._refused("Authentication needed: user token is required")
            return None, None
        user = self.user_by_token(user_token)
        if user is None:
            return None, self._refused("User token is invalid or expired")
        return user, None

    def _refused(self, message: str) -> web.Response:
        return self._error(401, self.unauthorized_message or message)

    def _denied(self, location_id: int, user: FakeUser | None) -> web.Response | None:
        rule = self.denials.get(
            (location_id, user.user_token if user else None)
        ) or self.denials.get((location_id, None))
        return self._error(*rule) if rule else None

    async def _license(self, request: web.Request) -> web.Response:
        user, refusal = self._caller(record_of(request), need_user=self.license_requires_user)
        if refusal:
            return refusal
        raw_id = request.match_info["location_id"]
        licence = self.licenses.get(int(raw_id)) if raw_id.isdigit() else None
        if licence is None:
            return self._error(404, "Location not found")
        refusal = self._denied(licence.location_id, user)
        if refusal:
            return refusal
        return self._ok(
            licence.payload(active_as_bool=self.active_as_bool, date_format=self.date_format)
        )

    async def _validate_phone(self, request: web.Request) -> web.Response:
        _, refusal = self._caller(record_of(request), need_user=False)
        if refusal:
            return refusal
        phone = request.match_info["phone"]
        valid = self.phone_verdicts.get(phone, re.fullmatch(r"\+?\d{10,15}", phone) is not None)
        if not valid and self.invalid_phone_status is not None:
            return self._error(
                self.invalid_phone_status,
                "Phone number is invalid",
                {"phone": ["Phone number is invalid"]},
            )
        return self._ok({"is_valid": valid})

    async def _auth(self, request: web.Request) -> web.Response:
        record = record_of(request)
        _, refusal = self._caller(record, need_user=False)
        if refusal:
            return refusal
        body = record.json if isinstance(record.json, dict) else record.form
        login, password = str(body.get("login") or ""), str(body.get("password") or "")
        missing = {k: ["This field is required"] for k in ("login", "password") if not body.get(k)}
        if missing:
            return self._error(422, "Validation error", missing)
        user = next((u for u in self.users if u.answers_to(login)), None)
        if user is None or not secrets.compare_digest(user.password, password):
            return self._error(self.auth_failure_status, "Incorrect login or password")
        return self._ok(user.payload(), status=self.auth_status)

    async def _upload_image(self, request: web.Request) -> web.Response:
        record = record_of(request)
        user, refusal = self._caller(record, need_user=True)
        if refusal or user is None:
            return refusal or self._error(401, "Authentication needed")
        entity = request.match_info["entity"]
        if entity not in ("master", "team_member", "service"):
            return self._error(404, f"Unknown entity {entity}")
        id_field = "service_id" if entity == "service" else "master_id"
        fields = dict(record.form)
        if entity == "team_member" and id_field not in fields:
            fields[id_field] = fields.get("team_member_id", "")
        errors = {
            k: ["This field is required"]
            for k in ("company_id", id_field)
            if not str(fields.get(k, "")).isdigit()
        }
        image = record.files.get("image")
        if image is None:
            errors["image"] = ["This field is required"]
        elif image.content_type not in IMAGE_TYPES:
            errors["image"] = ["Only JPEG and PNG images are accepted"]
        if errors:
            return self._error(422, "Validation error", errors)
        assert image is not None
        company_id = int(fields["company_id"])
        refusal = self._denied(company_id, user)
        if refusal:
            return refusal
        stored = StoredImage(
            group_id=next(self._ids),
            entity=entity,
            company_id=company_id,
            entity_id=int(fields[id_field]),
            filename=image.filename,
            content_type=image.content_type,
            content=image.content,
            user_token=user.user_token,
        )
        self.uploads.append(stored)
        return self._ok(
            {
                "image_binded": self.image_binded,
                self.image_group_key: image_group(stored, self.assets_url),
            }
        )

    async def _delete_image(self, request: web.Request) -> web.Response:
        record = record_of(request)
        _, refusal = self._caller(record, need_user=True)
        if refusal:
            return refusal
        body = record.json if isinstance(record.json, dict) else record.form
        raw = str(body.get("image_group_id", ""))
        for stored in self.uploads:
            if raw.isdigit() and stored.group_id == int(raw) and not stored.deleted:
                stored.deleted = True
                return self._ok(None)
        return self._error(404, "Image group not found")

    async def _unknown(self, request: web.Request) -> web.Response:
        return self._error(404, "Not found")


def _default_message(status: int) -> str:
    return DEFAULT_MESSAGES.get(status, "Internal server error" if status >= 500 else "Error")
