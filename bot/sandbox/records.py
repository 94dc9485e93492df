"""The records behind the sandbox Altegio (and the tests' fake): licences, users, images."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any


def _format_date(value: date | str | None, fmt: str) -> str | None:
    return value.strftime(fmt) if isinstance(value, date) else value


@dataclass
class SandboxLicense:
    location_id: int
    id: int
    plan: str = "Start"
    active: bool = True
    start_date: date | str | None = None
    deactivation_date: date | str | None = None
    staff_limit: int = 0
    is_paid_rights_model: bool | None = True  # None: the field is left out
    options: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # laid over the payload as is
    omit: set[str] = field(default_factory=set)  # payload keys to leave out

    def payload(self, *, active_as_bool: bool, date_format: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "salon_id": self.location_id,
            "staff_limit": self.staff_limit,
            "deactivation_date": _format_date(self.deactivation_date, date_format),
            "start_date": _format_date(self.start_date, date_format),
            "name": self.plan,
            "active": self.active if active_as_bool else int(self.active),
            "is_paid_rights_model": self.is_paid_rights_model,
            "options": [dict(o) for o in self.options],
        }
        if self.is_paid_rights_model is None:
            del data["is_paid_rights_model"]
        data.update(self.extra)
        return {k: v for k, v in data.items() if k not in self.omit}


@dataclass
class SandboxUser:
    id: int
    login: str
    password: str
    name: str
    user_token: str
    phone: str | None = None
    email: str | None = None
    avatar: str | None = None
    is_approved: bool = True
    is_email_confirmed: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_token": self.user_token,
            "name": self.name,
            "phone": self.phone,
            "login": self.login,
            "email": self.email,
            "avatar": self.avatar,
            "is_approved": self.is_approved,
            "is_email_confirmed": self.is_email_confirmed,
        }

    def answers_to(self, login: str) -> bool:
        digits = re.sub(r"\D", "", login)
        return login in (self.login, self.email) or bool(
            self.phone and digits and digits == re.sub(r"\D", "", self.phone)
        )


@dataclass
class StoredImage:
    group_id: int
    entity: str
    company_id: int
    entity_id: int
    filename: str | None
    content_type: str | None
    content: bytes
    user_token: str
    deleted: bool = False
