"""Every documented (and contradictory) shape of Altegio's answers parses to the same models."""

from __future__ import annotations

import copy
import pickle
from datetime import date

import pytest
from pydantic import ValidationError

from api.errors import (
    AccessDenied,
    AuthenticationError,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    Unavailable,
)
from api.models import AltegioUser, ImageUpload, License, PhoneValidation

LICENSE = {
    "id": 123,
    "salon_id": 4523464,
    "staff_limit": 10,
    "deactivation_date": "31.12.2025",
    "start_date": "01.01.2025",
    "name": "Start",
    "active": 1,
    "is_paid_rights_model": True,
    "options": [{"id": 1, "title": "Online booking"}, {"id": 2, "title": "SMS"}],
}


def test_license_documented_example():
    lic = License.model_validate(LICENSE)
    assert lic.id == 123
    assert lic.location_id == 4523464
    assert lic.plan == "Start"
    assert lic.active is True
    assert lic.start_date == date(2025, 1, 1)
    assert lic.deactivation_date == date(2025, 12, 31)
    assert lic.staff_limit == 10
    assert lic.is_paid_rights_model is True
    assert [(o.id, o.title) for o in lic.options] == [(1, "Online booking"), (2, "SMS")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        (None, False),
    ],
)
def test_license_active_variants(raw, expected):
    assert License.model_validate({**LICENSE, "active": raw}).active is expected


def test_license_active_missing_is_false():
    data = dict(LICENSE)
    del data["active"]
    assert License.model_validate(data).active is False


def test_license_active_garbage_is_rejected():
    with pytest.raises(ValidationError):
        License.model_validate({**LICENSE, "active": "maybe"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31.12.2025", date(2025, 12, 31)),
        ("1.2.2025", date(2025, 2, 1)),
        ("2025-12-31", date(2025, 12, 31)),
        ("2025-12-31 23:59:59", date(2025, 12, 31)),
        ("2025-12-31T10:00:00+03:00", date(2025, 12, 31)),
        ("31.12.2025 10:00", date(2025, 12, 31)),
        ("", None),
        ("  ", None),
        ("0000-00-00", None),
        ("0000-00-00 00:00:00", None),
        ("00.00.0000", None),
        (None, None),
    ],
)
def test_license_date_variants(raw, expected):
    lic = License.model_validate({**LICENSE, "deactivation_date": raw})
    assert lic.deactivation_date == expected


@pytest.mark.parametrize("raw", ["31/12/2025", "tomorrow", "32.12.2025", "2025-13-01", 20251231])
def test_license_unreadable_date_is_an_error_not_none(raw):
    with pytest.raises(ValidationError):
        License.model_validate({**LICENSE, "deactivation_date": raw})


def test_license_optional_fields_missing():
    lic = License.model_validate({"id": 1, "salon_id": 2, "name": "Basic", "active": 0})
    assert lic.options == []
    assert lic.is_paid_rights_model is None
    assert lic.start_date is None and lic.deactivation_date is None
    assert lic.staff_limit == 0
    assert lic.days_left(date(2025, 1, 1)) is None


@pytest.mark.parametrize("options", [None, [], {}])
def test_license_options_empty_variants(options):
    assert License.model_validate({**LICENSE, "options": options}).options == []


def test_license_options_keyed_by_id_and_missing_title():
    lic = License.model_validate({**LICENSE, "options": {"7": {"id": 7, "title": None}}})
    assert [(o.id, o.title) for o in lic.options] == [(7, "")]


def test_license_is_paid_rights_model_as_int_and_null():
    for raw, expected in ((0, False), ("1", True), (None, None)):
        lic = License.model_validate({**LICENSE, "is_paid_rights_model": raw})
        assert lic.is_paid_rights_model is expected


def test_license_numbers_as_strings_and_null_staff_limit():
    lic = License.model_validate({**LICENSE, "id": "5", "salon_id": "6", "staff_limit": None})
    assert (lic.id, lic.location_id, lic.staff_limit) == (5, 6, 0)


def test_license_accepts_its_own_field_names():
    lic = License.model_validate({"id": 1, "location_id": 9, "plan": "Pro", "active": True})
    assert (lic.location_id, lic.plan) == (9, "Pro")


def test_license_days_left():
    lic = License.model_validate(LICENSE)
    assert lic.days_left(date(2025, 12, 1)) == 30
    assert lic.days_left(date(2025, 12, 31)) == 0
    assert lic.days_left(date(2026, 1, 2)) == -2


def test_license_is_frozen():
    lic = License.model_validate(LICENSE)
    with pytest.raises(ValidationError):
        lic.plan = "Other"


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), (False, False), (1, True), ("0", False)]
)
def test_phone_validation(raw, expected):
    result = PhoneValidation.model_validate({"is_valid": raw})
    assert result.is_valid is expected and result.message is None


AUTH = {
    "id": 123456,
    "user_token": "wec23fh8cDfFV4432fc352456",
    "name": "Ann Smith",
    "phone": "79161234567",
    "login": "ann",
    "email": "ann@example.com",
    "avatar": "https://example.com/a.png",
    "is_approved": True,
    "is_email_confirmed": False,
}


def test_user_full():
    user = AltegioUser.model_validate(AUTH)
    assert user.id == 123456
    assert user.user_token.get_secret_value() == AUTH["user_token"]
    assert AUTH["user_token"] not in repr(user) and AUTH["user_token"] not in str(user)
    assert (user.name, user.phone, user.login, user.email) == (
        "Ann Smith",
        "79161234567",
        "ann",
        "ann@example.com",
    )
    assert user.is_approved is True and user.is_email_confirmed is False


def test_user_minimal_and_odd_types():
    user = AltegioUser.model_validate(
        {
            "id": "7",
            "user_token": "t",
            "name": None,
            "phone": 79161234567,
            "email": "",
            "is_approved": 1,
        }
    )
    assert user.name == "" and user.phone == "79161234567" and user.email is None
    assert user.login is None and user.avatar is None
    assert user.is_approved is True and user.is_email_confirmed is None


def test_user_without_token_is_rejected():
    with pytest.raises(ValidationError):
        AltegioUser.model_validate({"id": 1, "user_token": ""})
    with pytest.raises(ValidationError):
        AltegioUser.model_validate({"id": 1})


GROUP = {
    "id": 46,
    "entity": "master",
    "entity_id": 17,
    "images": {
        "basic": {
            "id": 81,
            "path": "https://assets.example/basic.png",
            "width": "200",
            "height": 200,
            "type": "png",
            "image_group_id": 46,
            "version": "basic",
        },
        "origin": {
            "id": 82,
            "path": "https://assets.example/origin.png",
            "width": 800,
            "height": 600,
            "type": "png",
            "image_group_id": 46,
            "version": "origin",
        },
    },
}


@pytest.mark.parametrize("key", ["image_group ", "image_group", " image_group  "])
def test_image_upload_group_key_variants(key):
    upload = ImageUpload.model_validate({"image_binded": True, key: GROUP})
    assert upload.image_binded is True
    assert upload.image_group is not None
    assert upload.image_group.id == 46 and upload.image_group.entity_id == 17
    assert upload.image_group.images["basic"].width == 200
    assert upload.image_group.images["origin"].path.endswith("origin.png")


@pytest.mark.parametrize("group", [None, [], {}])
def test_image_upload_without_group(group):
    upload = ImageUpload.model_validate({"image_binded": 0, "image_group ": group})
    assert upload.image_binded is False and upload.image_group is None


def test_image_upload_missing_everything_and_list_of_versions():
    assert ImageUpload.model_validate({}).image_group is None
    upload = ImageUpload.model_validate(
        {"image_binded": "1", "image_group": {**GROUP, "images": list(GROUP["images"].values())}}
    )
    assert set(upload.image_group.images) == {"basic", "origin"}


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("no", token="user"),
        InvalidCredentials("bad", status=422, errors={"login": ["wrong"]}),
        AccessDenied("denied", status=403),
        NotFound("gone", status=404),
        InvalidInput("bad", status=422, errors={"phone": "x"}),
        RateLimited("slow", retry_after=3.0),
        Unavailable("down"),
    ],
)
def test_errors_copy_and_pickle_keep_their_fields(error):
    pickled = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    for clone in (copy.copy(error), pickled):
        assert type(clone) is type(error)
        assert clone.__dict__ == error.__dict__
        assert str(clone) == str(error)


def test_error_text():
    assert str(NotFound("No such location", status=404)) == "No such location (HTTP 404)"
    assert str(Unavailable("down")) == "down"
    assert AuthenticationError("x", token="partner").status == 401
