"""Photo replies in every language the bot speaks: caption examples a reader can copy, whole
sentences for each kind of record, Slack's limits kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from api import ImageUpload
from handlers.i18n import LANGUAGES, translator
from handlers.images import messages
from handlers.images.caption import CaptionError, Target, parse_caption
from handlers.images.download import too_large
from handlers.images.messages import RetryRequest
from handlers.store import LinkedAccount
from tests.fakes.block_limits import message_problems

MASTER = Target("master", 17, 4523464)
SERVICE = Target("service", 9, 4523464)
ACCOUNT = LinkedAccount("T1", "U1", 42, "M" * 300, "m@example.com", datetime.now(UTC), "usr-x")
RETRY = RetryRequest("F1", "C1", "1.1", "1.1", "master", 17, 4523464)
EXAMPLE = re.compile(r"`([^`]*4523464[^`]*)`")


def problem(caption: str, language: str) -> str:
    with pytest.raises(CaptionError) as error:
        parse_caption(caption)
    return error.value.text(translator(language))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("caption", "target"), [("master 17", MASTER), ("service 9", SERVICE)])
def test_the_example_in_a_caption_problem_works_as_a_caption(
    language: str, caption: str, target: Target
) -> None:
    (example,) = EXAMPLE.findall(problem(caption, language))
    assert parse_caption(example) == target


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_caption_help_shows_captions_that_work(language: str) -> None:
    examples = EXAMPLE.findall(messages.usage(translator(language)))
    assert {parse_caption(e) for e in examples} >= {MASTER, SERVICE}


@pytest.mark.parametrize("language", LANGUAGES)
def test_photo_replies_fit_slack_in_every_language(language: str) -> None:
    t = translator(language)
    reason = too_large(30 * 1024 * 1024, 10 * 1024 * 1024, t)
    upload = ImageUpload.model_validate({"image_binded": False, "image_group": {"id": 5}})
    replies = [
        messages.failed("x" * 200, MASTER, str(reason), RETRY, t),
        messages.failed("menu.png", None, messages.took_too_long(t), None, t),
        messages.uploaded(
            "a.jpg",
            SERVICE,
            upload,
            user_id="U1",
            account=ACCOUNT,
            web_url="https://x",
            t=t,
        ),
        messages.login_prompt(["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"], t),
        messages.already_handled("a.jpg", t),
        messages.retried("U1", "x" * 2900, t),
        messages.usage_reply(problem("master 17 master 18 location 1", language), t),
    ]
    for text, blocks in replies:
        assert message_problems({"text": text, "blocks": blocks}) == []


def test_several_ids_take_the_languages_plural() -> None:
    ids = " ".join(f"master {n}" for n in range(1, 8))
    assert problem(f"{ids} location 1", "ru") == (
        "В подписи 7 разных id сотрудника (1, 2, 3, 4, 5 и ещё 2); укажите один."
    )
    assert "2 ids de servicio distintos (1, 2)" in problem("service 1 service 2 location 1", "es")
    assert (
        problem("master 0 location 1", "pt") == "`0` não é um id de profissional: ids começam em 1."
    )


def test_sizes_and_names_in_the_readers_language() -> None:
    ru = translator("ru")
    assert "(30 МБ)" in str(too_large(30 * 1024 * 1024, 10 * 1024 * 1024, ru))
    assert "1,5 MB" in str(too_large(1536 * 1024, 1024 * 1024, translator("es")))
    text, _ = messages.login_prompt(["a.jpg", "b.jpg", "c.jpg", "d.jpg"], ru)
    assert "`a.jpg`, `b.jpg`, `c.jpg` и ещё 1" in text
    text, _ = messages.login_prompt(["a.jpg", "b.jpg"], translator("es"))
    assert "`a.jpg` y `b.jpg`" in text


@pytest.mark.parametrize(
    ("language", "label"), [("es", "Ver la imagen"), ("pt", "Ver a imagem"), ("ru", "Открыть")]
)
def test_the_link_to_the_uploaded_image_speaks_the_readers_language(
    language: str, label: str
) -> None:
    upload = ImageUpload.model_validate(
        {"image_binded": True, "image_group": {"id": 5, "images": {"basic": {"path": "/i/5.jpg"}}}}
    )
    _, blocks = messages.uploaded(
        "a.jpg",
        MASTER,
        upload,
        user_id="U1",
        account=ACCOUNT,
        web_url="https://altegio.example",
        t=translator(language),
    )
    assert f"|{label}" in str(blocks)
