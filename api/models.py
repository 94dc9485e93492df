"""Typed views of Altegio's answers, lenient about every variant the documentation shows.

Altegio's examples disagree with each other (1/0 or booleans, `DD.MM.YYYY` dates, a key with a
trailing space, fields present in one version and not another), so each model normalises its
input before validation instead of trusting one example. Models are frozen: the client caches
them and hands the same instance to many callers.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f", ""}
_EMPTY_DATES = {"", "0", "0000-00-00", "00.00.0000", "null", "none"}
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_flag(value: Any) -> Any:
    """1/0, "1"/"0", "true"/"false" and booleans all mean what they say; anything else is left
    for pydantic to reject."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


def parse_date(value: Any) -> date | None:
    """`DD.MM.YYYY` (every Altegio example) or ISO `YYYY-MM-DD`, optionally followed by a time.

    Empty values and MySQL's zero date mean "no date". Anything else unreadable is an error: a
    licence whose end date silently became None would never raise an expiry alert.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a date string")
    text = value.strip()
    if text.lower() in _EMPTY_DATES:
        return None
    head = re.split(r"[ T]", text, maxsplit=1)[0]
    if head in _EMPTY_DATES:
        return None
    if match := _DMY.match(head):
        day, month, year = (int(g) for g in match.groups())
    elif match := _YMD.match(head):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise ValueError("expected DD.MM.YYYY or YYYY-MM-DD")
    return date(year, month, day)


def _blank_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # phones sometimes arrive as numbers
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class LicenseOption(_Model):
    id: int = 0
    title: str = ""

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return "" if value is None else value


class License(_Model):
    id: int
    location_id: int = Field(validation_alias=AliasChoices("salon_id", "location_id", "company_id"))
    plan: str = Field("", validation_alias=AliasChoices("name", "plan"))
    active: bool = False
    start_date: date | None = None
    deactivation_date: date | None = None
    staff_limit: int = 0  # 0 means unlimited
    is_paid_rights_model: bool | None = None
    options: list[LicenseOption] = Field(default_factory=list)

    @field_validator("active", mode="before")
    @classmethod
    def _active(cls, value: Any) -> Any:
        value = parse_flag(value)
        return False if value is None else value

    @field_validator("is_paid_rights_model", mode="before")
    @classmethod
    def _paid(cls, value: Any) -> Any:
        return parse_flag(value)

    @field_validator("start_date", "deactivation_date", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> date | None:
        return parse_date(value)

    @field_validator("plan", mode="before")
    @classmethod
    def _plan(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("staff_limit", mode="before")
    @classmethod
    def _staff(cls, value: Any) -> Any:
        return 0 if value is None or value == "" else value

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, dict):  # keyed by id in some PHP serialisations
            return list(value.values())
        return value

    def days_left(self, today: date) -> int | None:
        """Whole days until deactivation (0 on the day itself, negative once past); None if the
        licence has no deactivation date."""
        if self.deactivation_date is None:
            return None
        return (self.deactivation_date - today).days


class PhoneValidation(_Model):
    is_valid: bool
    # Altegio's own words when it refused the number with an error instead of is_valid=false.
    message: str | None = None

    @field_validator("is_valid", mode="before")
    @classmethod
    def _valid(cls, value: Any) -> Any:
        return parse_flag(value)


class AltegioUser(_Model):
    id: int
    user_token: SecretStr
    name: str = ""
    phone: str | None = None
    login: str | None = None
    email: str | None = None
    avatar: str | None = None
    is_approved: bool | None = None
    is_email_confirmed: bool | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("phone", "login", "email", "avatar", mode="before")
    @classmethod
    def _optional_text(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("is_approved", "is_email_confirmed", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        return parse_flag(value)

    @field_validator("user_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty user token")
        return value


class ImageVersion(_Model):
    id: int | None = None
    path: str = ""
    width: int | None = None
    height: int | None = None
    type: str | None = None
    image_group_id: int | None = None
    version: str | None = None

    @field_validator("width", "height", "id", "image_group_id", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        return "" if value is None else value


class ImageGroup(_Model):
    id: int
    entity: str = ""
    entity_id: int | None = None
    images: dict[str, ImageVersion] = Field(default_factory=dict)

    @field_validator("images", mode="before")
    @classmethod
    def _images(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, list):  # a list of versions instead of a map keyed by version
            return {
                str(item.get("version") or index): item
                for index, item in enumerate(value)
                if isinstance(item, dict)
            }
        return value


class ImageUpload(_Model):
    image_binded: bool = False
    image_group: ImageGroup | None = None

    @model_validator(mode="before")
    @classmethod
    def _strip_keys(cls, value: Any) -> Any:
        # Every published example spells the key "image_group " with a trailing space.
        if isinstance(value, dict):
            return {k.strip() if isinstance(k, str) else k: v for k, v in value.items()}
        return value

    @field_validator("image_binded", mode="before")
    @classmethod
    def _binded(cls, value: Any) -> Any:
        value = parse_flag(value)
        return False if value is None else value

    @field_validator("image_group", mode="before")
    @classmethod
    def _group(cls, value: Any) -> Any:
        return value or None  # [] or {} from PHP means "no group"
