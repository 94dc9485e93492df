"""Block Kit for photo shares, the Try again button's value, and upload file names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api import ImageUpload
from handlers.images.caption import Target
from handlers.images.messages import RETRY_ACTION, RetryRequest, failed, image_link, uploaded
from handlers.images.upload import upload_filename
from handlers.store import LinkedAccount

WEB = "https://app.alteg.io"
ACCOUNT = LinkedAccount(
    "T1", "U1", 42, "Maria *Manager*", "maria@example.com", datetime.now(UTC), "usr-secret"
)
REQUEST = RetryRequest("F1", "C1", "1700000000.000100", "1700000000.000100", "master", 17, 4523464)


def upload(images: dict | None, *, binded: bool = True) -> ImageUpload:
    group = (
        None if images is None else {"id": 5, "entity": "master", "entity_id": 17, "images": images}
    )
    return ImageUpload.model_validate({"image_binded": binded, "image_group ": group})


def test_retry_value_round_trips_and_fits_a_button() -> None:
    value = REQUEST.encode()
    assert RetryRequest.decode(value) == REQUEST
    assert len(value) < 2000


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "not json",
        "[]",
        '{"f": "F1"}',
        '{"f":"F1","c":"C1","ts":"1","th":"1","e":"team","i":17,"l":1}',
        '{"f":"F1","c":"C1","ts":"1","th":"1","e":"master","i":0,"l":1}',
        '{"f":"F1","c":"C1","ts":"1","th":"1","e":"master","i":"x","l":1}',
    ],
)
def test_a_bad_retry_value_decodes_to_none(value: str | None) -> None:
    assert RetryRequest.decode(value) is None


def test_failure_offers_the_button_only_when_trying_again_can_help() -> None:
    target = Target("master", 17, 4523464)
    _, with_button = failed("a.jpg", target, "Altegio is down.", REQUEST)
    _, without = failed("a.jpg", target, "It is a PDF.", None)
    assert with_button[-1]["elements"][0]["action_id"] == RETRY_ACTION
    assert with_button[-1]["elements"][0]["value"] == REQUEST.encode()
    assert all(b["type"] != "actions" for b in without)


def test_success_names_the_target_group_and_link() -> None:
    result = upload(
        {
            "basic": {"path": "https://assets.alteg.io/master/basic/a.jpg", "width": 600},
            "thumbnail": {"path": "https://assets.alteg.io/master/thumb/a.jpg", "width": 100},
        }
    )
    text, blocks = uploaded(
        "a.jpg", Target("master", 17, 1), result, user_id="U1", account=ACCOUNT, web_url=WEB
    )
    shown = text + blocks[0]["text"]["text"] + blocks[1]["elements"][0]["text"]
    assert "team member 17 at location 1" in shown
    assert "Image group 5" in shown
    assert "<https://assets.alteg.io/master/basic/a.jpg|View the image>" in shown
    # Whose Altegio account uploaded it, by name as whoami shows it; never the token.
    assert "Uploaded with <@U1>'s own Altegio account (Maria" in shown
    assert "Manager" in shown and "*Manager*" not in shown
    assert "usr-secret" not in str(blocks)


def test_an_account_without_a_name_is_named_by_its_login() -> None:
    nameless = LinkedAccount("T1", "U1", 42, " ", "maria@example.com", datetime.now(UTC), "t")
    _, blocks = uploaded(
        "a.jpg", Target("master", 17, 1), upload(None), user_id="U1", account=nameless, web_url=WEB
    )
    assert "(maria@example.com)" in blocks[1]["elements"][0]["text"]


def test_an_unbound_upload_says_so() -> None:
    text, _ = uploaded(
        "a.jpg",
        Target("service", 9, 1),
        upload({}, binded=False),
        user_id="U1",
        account=ACCOUNT,
        web_url=WEB,
    )
    assert "did not bind it" in text


@pytest.mark.parametrize(
    ("images", "link"),
    [
        (None, None),
        ({}, None),
        ({"basic": {"path": ""}}, None),
        (
            {
                "big": {"path": "/u/big.jpg", "width": 900},
                "small": {"path": "/u/s.jpg", "width": 90},
            },
            "https://app.alteg.io/u/big.jpg",
        ),
        ({"basic": {"path": "javascript:alert(1)"}}, None),
        ({"basic": {"path": "https://x.test/a b|c.jpg"}}, None),
    ],
)
def test_image_link(images: dict | None, link: str | None) -> None:
    assert image_link(upload(images), WEB) == link


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("portrait.jpg", "image/jpeg", "portrait.jpg"),
        ("Portrait.JPEG", "image/jpeg", "Portrait.JPEG"),
        ("room.png", "image/png", "room.png"),
        ("IMG_0001", "image/jpeg", "IMG_0001.jpg"),
        ("photo.jpg", "image/png", "photo.jpg.png"),
        ("../../etc/passwd", "image/jpeg", "etc_passwd.jpg"),
        ("", "image/png", "photo.png"),
    ],
)
def test_upload_filename(name: str, content_type: str, expected: str) -> None:
    assert upload_filename(name, content_type) == expected
