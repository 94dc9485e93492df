"""A small Altegio B2B API v1 served in-process on 127.0.0.1: licences, phone checks, /auth and
image uploads, in the shapes the real API documents (success and error envelopes, 201 for /auth,
`"image_group "` with its trailing space).

It runs on the caller's event loop (aiohttp, which the bot depends on already), on an ephemeral
port, and holds its data in memory: a demo or a trial in Slack, never production.
"""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.sandbox.records import SandboxLicense, SandboxUser, StoredImage

API_PREFIX = "/api/v1"
PARTNER_TOKEN = "sandbox-partner-token"  # noqa: S105 - the sandbox's own, public by design
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png"}
ASSETS_URL = "https://assets.sandbox.invalid"


class SandboxAltegio:
    """`await SandboxAltegio().start()` serves `base_url` (…/api/v1) until `await stop()`."""

    def __init__(self, partner_token: str = PARTNER_TOKEN) -> None:
        self.partner_token = partner_token
        self.licenses: dict[int, SandboxLicense] = {}
        self.users: list[SandboxUser] = []
        self.uploads: list[StoredImage] = []
        self._ids = itertools.count(1001)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def base_url(self) -> str:
        return self.url + API_PREFIX

    # -- data -----------------------------------------------------------------------------
    def add_license(
        self,
        location_id: int,
        *,
        plan: str = "Start",
        active: bool = True,
        days_left: int | None = 200,
        staff_limit: int = 0,
        options: list[dict[str, Any]] | None = None,
    ) -> SandboxLicense:
        today = date.today()
        licence = SandboxLicense(
            location_id=location_id,
            id=next(self._ids),
            plan=plan,
            active=active,
            start_date=today - timedelta(days=165),
            deactivation_date=None if days_left is None else today + timedelta(days=days_left),
            staff_limit=staff_limit,
            options=list(options or []),
        )
        self.licenses[location_id] = licence
        return licence

    def add_user(self, login: str, password: str, *, name: str, user_token: str) -> SandboxUser:
        user = SandboxUser(
            id=next(self._ids),
            login=login,
            password=password,
            name=name,
            user_token=user_token,
            email=login if "@" in login else None,
        )
        self.users.append(user)
        return user

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SandboxAltegio:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        p = API_PREFIX
        app.router.add_get(p + "/license/{location_id}", self._license)
        app.router.add_get(p + "/validation/validate_phone/{phone}", self._validate_phone)
        app.router.add_post(p + "/auth", self._auth)
        app.router.add_post(p + "/images/{entity}", self._upload_image)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- HTTP -----------------------------------------------------------------------------
    @staticmethod
    def _ok(data: Any, status: int = 200) -> web.Response:
        return web.json_response({"success": True, "data": data, "meta": []}, status=status)

    @staticmethod
    def _error(status: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
        meta: dict[str, Any] = {"message": message}
        if errors:
            meta["errors"] = errors
        return web.json_response({"success": False, "data": None, "meta": meta}, status=status)

    def _caller(
        self, request: web.Request, *, need_user: bool
    ) -> tuple[SandboxUser | None, web.Response | None]:
        partner, user_token = _authorization(request.headers.get("Authorization", ""))
        if partner is None or not secrets.compare_digest(partner, self.partner_token):
            return None, self._error(401, "Partner token is missing or invalid")
        if user_token is None:
            if need_user:
                return None, self._error(401, "Authentication needed: user token is required")
            return None, None
        user = next((u for u in self.users if u.user_token == user_token), None)
        if user is None:
            return None, self._error(401, "User token is invalid or expired")
        return user, None

    async def _license(self, request: web.Request) -> web.Response:
        _, refusal = self._caller(request, need_user=False)
        if refusal:
            return refusal
        raw = request.match_info["location_id"]
        licence = self.licenses.get(int(raw)) if raw.isdigit() else None
        if licence is None:
            return self._error(404, "Location not found")
        return self._ok(licence.payload(active_as_bool=False, date_format="%d.%m.%Y"))

    async def _validate_phone(self, request: web.Request) -> web.Response:
        _, refusal = self._caller(request, need_user=False)
        if refusal:
            return refusal
        phone = request.match_info["phone"]
        return self._ok({"is_valid": re.fullmatch(r"\+?\d{10,15}", phone) is not None})

    async def _auth(self, request: web.Request) -> web.Response:
        _, refusal = self._caller(request, need_user=False)
        if refusal:
            return refusal
        try:
            body = await request.json()
        except ValueError:
            body = dict(await request.post())
        body = body if isinstance(body, dict) else {}
        login, password = str(body.get("login") or ""), str(body.get("password") or "")
        missing = {k: ["This field is required"] for k in ("login", "password") if not body.get(k)}
        if missing:
            return self._error(422, "Validation error", missing)
        user = next((u for u in self.users if u.answers_to(login)), None)
        if user is None or not secrets.compare_digest(user.password, password):
            return self._error(401, "Incorrect login or password")
        return self._ok(user.payload(), status=201)

    async def _upload_image(self, request: web.Request) -> web.Response:
        user, refusal = self._caller(request, need_user=True)
        if refusal or user is None:
            return refusal or self._error(401, "Authentication needed")
        entity = request.match_info["entity"]
        if entity not in ("master", "team_member", "service"):
            return self._error(404, f"Unknown entity {entity}")
        form = await request.post()
        id_field = "service_id" if entity == "service" else "master_id"
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        errors = {
            k: ["This field is required"]
            for k in ("company_id", id_field)
            if not fields.get(k, "").isdigit()
        }
        image = form.get("image")
        if not isinstance(image, web.FileField):
            errors["image"] = ["This field is required"]
        elif image.content_type not in IMAGE_TYPES:
            errors["image"] = ["Only JPEG and PNG images are accepted"]
        if errors or not isinstance(image, web.FileField):
            return self._error(422, "Validation error", errors)
        company_id = int(fields["company_id"])
        if company_id not in self.licenses:
            return self._error(404, "Location not found")
        stored = StoredImage(
            group_id=next(self._ids),
            entity=entity,
            company_id=company_id,
            entity_id=int(fields[id_field]),
            filename=image.filename,
            content_type=image.content_type,
            content=image.file.read(),
            user_token=user.user_token,
        )
        self.uploads.append(stored)
        return self._ok({"image_binded": True, "image_group ": image_group(stored)})

    async def _unknown(self, request: web.Request) -> web.Response:
        return self._error(404, "Not found")


def _authorization(header: str) -> tuple[str | None, str | None]:
    """(partner token, user token) from `Bearer <partner>[, User <user>]`."""
    match = re.fullmatch(r"\s*Bearer\s+([^\s,]+)\s*(?:,\s*User\s+(\S+)\s*)?", header)
    return (match.group(1), match.group(2)) if match else (None, None)


def image_group(stored: StoredImage, assets_url: str = ASSETS_URL) -> dict[str, Any]:
    """The image group Altegio describes an upload with: a basic and a thumbnail version."""
    ext = IMAGE_TYPES.get(stored.content_type or "", "jpg")
    name = secrets.token_hex(8)
    images = {
        version: {
            "id": stored.group_id * 10 + n,
            "version": version,
            "type": ext,
            "path": f"{assets_url}/{stored.entity}/{version}/{name}.{ext}",
            "width": size,
            "height": size,
            "image_group_id": stored.group_id,
        }
        for n, (version, size) in enumerate((("basic", 600), ("thumbnail", 100)), 1)
    }
    return {
        "id": stored.group_id,
        "entity": stored.entity,
        "entity_id": stored.entity_id,
        "images": images,
    }
