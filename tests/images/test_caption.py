"""The caption grammar, as a pure function."""

from __future__ import annotations

import pytest

from handlers.images.caption import CaptionError, Target, parse_caption

MASTER = Target("master", 17, 4523464)


@pytest.mark.parametrize(
    "caption",
    [
        "master 17 location 4523464",
        "location 4523464 master 17",
        "MASTER 17 LOCATION 4523464",
        "Location: 4523464, staff id 17",
        "team_member 17 company 4523464",
        "team member 17 location 4523464",
        "team-member #17 location #4523464",
        "master_id=17; location_id=4523464",
        "master17 location4523464",
        "*master 17* _location 4523464_",
        "`master 17 location 4523464`",
        "<@U0BOT> master 17 location 4523464 :camera:",
        "New portrait for master 17 at location 4523464.",
        "staff 17 location 4523464 (the new service menu is coming)",
        "master 17 location 4523464 master 17",  # the same id twice is still one team member
        "master № 17 location № 4523464",
    ],
)
def test_team_member_captions(caption: str) -> None:
    assert parse_caption(caption) == MASTER


@pytest.mark.parametrize(
    "caption",
    ["service 9 location 4523464", "Company 4523464 SERVICE #9", "service id 9 location: 4523464"],
)
def test_service_captions(caption: str) -> None:
    assert parse_caption(caption) == Target("service", 9, 4523464)


@pytest.mark.parametrize(
    "caption",
    [
        "",
        "   ",
        "Our new salon!",
        "location 4523464",  # no entity: someone else's business
        "Service with a smile",
        "staff party tonight",
        "our team members at the new place",
        "masterpiece",
        "remastered 17",
        "services 9 location",  # "services" is not the keyword
        "<https://example.com/master/17|master 17> hello",  # words inside a link don't count
    ],
)
def test_captions_for_people_are_ignored(caption: str) -> None:
    assert parse_caption(caption) is None


@pytest.mark.parametrize(
    ("caption", "problem"),
    [
        ("master 17", "Which location is team member 17 in?"),
        ("service 9", "Which location is service 9 in?"),
        ("master abc location 4523464", "`abc` is not a team member id"),
        ("master 12ab location 4523464", "`12ab` is not a team member id"),
        ("master -17 location 4523464", "`-17` is not a team member id"),
        ("master 17 location abc", "`abc` is not a location id"),
        ("master 17 location", "`location` needs an id after it"),
        ("master location 4523464", "`master` needs an id after it"),
        ("master 0 location 4523464", "ids start at 1"),
        ("master 1234567890123 location 4523464", "is not a team member id"),
        ("master １７ location 4523464", "is not a team member id"),
        ("master 17 service 9 location 4523464", "not both"),
        ("staff 17 service 9 location 4523464", "not both"),
        ("master 17 master 18 location 4523464", "2 different team member ids (17, 18)"),
        ("master 17 location 1 location 2", "2 different location ids (1, 2)"),
    ],
)
def test_incomplete_or_malformed_captions_say_what_to_fix(caption: str, problem: str) -> None:
    with pytest.raises(CaptionError) as error:
        parse_caption(caption)
    assert problem in str(error.value)


def test_missing_location_names_an_example_to_copy() -> None:
    with pytest.raises(CaptionError, match=r"`master 17 location 4523464`"):
        parse_caption("master 17")


def test_a_long_bad_value_is_shortened_in_the_reply() -> None:
    with pytest.raises(CaptionError) as error:
        parse_caption("master " + "x" * 100 + " location 1")
    assert "x" * 39 + "…" in str(error.value) and "x" * 40 not in str(error.value)


@pytest.mark.parametrize(
    "caption",
    [
        "maestro 17 sucursal 4523464",
        "Profesional 17, ubicación 4523464",
        "PROFESIONAL 17 UBICACION 4523464",
        "profesional nº 17 local 4523464",
        "Nuevo retrato de la profesional 17 en la sucursal 4523464",
        "profissional 17 unidade 4523464",
        "Funcionário 17 filial 4523464",
        "funcionario_id=17 unidade_id=4523464",
        "мастер 17 филиал 4523464",
        "МАСТЕР 17 ЛОКАЦИЯ 4523464",
        "Фото мастера №17 в филиале 4523464",
        "сотрудник номер 17, филиал 4523464",
        "master 17 sucursal 4523464",  # languages may mix
    ],
)
def test_team_member_captions_in_spanish_portuguese_and_russian(caption: str) -> None:
    assert parse_caption(caption) == MASTER


@pytest.mark.parametrize(
    "caption",
    [
        "servicio 9 sucursal 4523464",
        "Serviço 9 unidade 4523464",
        "SERVICO #9 local 4523464",
        "услуга 9 филиал 4523464",
        "Фото для услуги 9, локация 4523464",
    ],
)
def test_service_captions_in_spanish_portuguese_and_russian(caption: str) -> None:
    assert parse_caption(caption) == Target("service", 9, 4523464)


@pytest.mark.parametrize(
    "caption",
    [
        "¡Nuestro nuevo local!",
        "Un servicio excelente",
        "profesionales del equipo",
        "Nossos serviços",
        "Наша мастерская 17 лет",
        "услуги салона",
        "Новый филиал открыт",
    ],
)
def test_captions_for_people_are_ignored_in_every_language(caption: str) -> None:
    assert parse_caption(caption) is None


@pytest.mark.parametrize(
    ("caption", "problem", "typed"),
    [
        ("maestro 17", "Which location is team member 17 in?", None),
        ("profissional abc unidade 4523464", "`abc` is not a team member id", None),
        ("мастер 17 услуга 9 филиал 4523464", "not both", None),
        ("Ubicación 4523464 maestro", "needs an id after it", "`maestro`"),
        ("мастер 17 Филиал", "needs an id after it", "`Филиал`"),
    ],
)
def test_malformed_captions_in_other_languages_say_what_to_fix(
    caption: str, problem: str, typed: str | None
) -> None:
    with pytest.raises(CaptionError) as error:
        parse_caption(caption)
    assert problem in str(error.value)
    if typed:
        assert typed in str(error.value)  # quoted back as typed, accents and case kept


def test_target_label() -> None:
    assert MASTER.label == "team member 17"
    assert Target("service", 9, 1).label == "service 9"
