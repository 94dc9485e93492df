"""Subcommands, help and photo captions typed in Spanish, Portuguese and Russian, end to end
through the served bot: the same thing happens as for the English words."""

from __future__ import annotations

import pytest

from tests.alerts.support import OPS, command
from tests.bot_server import BotServer
from tests.e2e.support import ask, text_of
from tests.e2e.test_images import link, share, thread_replies
from tests.e2e.test_images import text_of as photo_text
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender


def watched(bot: BotServer) -> list[int]:
    return sorted(w.location_id for w in bot.call(bot.runtime.store.list_watches()))


@pytest.mark.parametrize(
    ("caption", "entity", "entity_id"),
    [
        ("Nuevo retrato: profesional 17, ubicación 4523464", "master", "17"),
        ("Serviço nº 9 — unidade 4523464", "service", "9"),
        ("Фото мастера 17 в филиале 4523464", "master", "17"),
    ],
    ids=["es", "pt", "ru"],
)
async def test_a_caption_in_another_language_uploads_the_photo(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caption: str,
    entity: str,
    entity_id: str,
) -> None:
    user = link(bot, fake_altegio)
    event, _ = share(fake_slack, caption=caption)

    assert (await slack.event(event, event_id=f"EvWORDS{entity}{entity_id}")).status_code == 200

    (upload,) = await fake_altegio.wait_for_requests_async(
        1, path=f"/images/{entity}", method="POST", timeout=10
    )
    assert upload.form == {"company_id": "4523464", f"{entity}_id": entity_id}
    assert upload.user_token == user.user_token
    (reply,) = await thread_replies(fake_slack, event)
    assert "4523464" in str(reply.args)


@pytest.mark.parametrize(
    ("caption", "problem"),
    [
        ("profesional 17", "Which location is team member 17 in?"),
        ("мастер 17 услуга 9 филиал 4523464", "not both"),
    ],
    ids=["es-no-location", "ru-both"],
)
async def test_an_unusable_caption_in_another_language_is_answered_and_not_uploaded(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caption: str,
    problem: str,
) -> None:
    link(bot, fake_altegio)
    event, _ = share(fake_slack, caption=caption)

    assert (await slack.event(event, event_id="EvWORDSBAD" + str(len(caption)))).status_code == 200

    (reply,) = await thread_replies(fake_slack, event)
    assert problem in photo_text(reply.args)
    assert fake_altegio.uploads == []


async def test_watch_and_unwatch_in_spanish(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Business", days_left=12)

    assert "now watches location 1001" in await command(slack, fake_slack, "Vigilar 1001")
    assert watched(bot) == [1001]
    shown = await command(slack, fake_slack, "vigilando")
    assert "1001" in shown and "Business" in shown
    await command(slack, fake_slack, "dejar de vigilar 1001")
    assert watched(bot) == []


async def test_watch_list_and_unwatch_in_portuguese(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1002, days_left=40)

    assert "now watches location 1002" in await command(slack, fake_slack, "monitorar 1002")
    assert "1002" in await command(slack, fake_slack, "MONITORANDO")
    await command(slack, fake_slack, "parar de monitorar 1002")
    assert watched(bot) == []


async def test_watch_list_and_unwatch_in_russian(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1003, days_left=40)

    assert "now watches location 1003" in await command(slack, fake_slack, "Следить 1003")
    watch = bot.call(bot.runtime.store.get_watch(TEAM_ID, OPS, 1003))
    assert watch is not None
    assert "1003" in await command(slack, fake_slack, "список")
    await command(slack, fake_slack, "не следить 1003")
    assert watched(bot) == []


@pytest.mark.parametrize(
    ("whoami", "logout"),
    [("¿Quién soy?", "cerrar sesión"), ("quem sou eu", "sair"), ("кто я", "Выйти")],
    ids=["es", "pt", "ru"],
)
async def test_whoami_and_logout_in_another_language(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    whoami: str,
    logout: str,
) -> None:
    link(bot, fake_altegio)

    assert "Maria Manager" in text_of(await ask(slack, fake_slack, "/altegio", whoami))
    assert "forgotten your Altegio session" in text_of(
        await ask(slack, fake_slack, "/altegio", logout)
    )
    assert bot.call(bot.runtime.store.get_account(TEAM_ID, USER_ID)) is None


@pytest.mark.parametrize(
    ("command_name", "text", "usage"),
    [
        ("/license", "ayuda", "/license watch"),
        ("/altegio", "ajuda", "/altegio login"),
        ("/phone", "помощь", "/phone"),
    ],
)
async def test_help_in_another_language(
    slack: SlackSender, fake_slack: FakeSlack, command_name: str, text: str, usage: str
) -> None:
    shown = text_of(await ask(slack, fake_slack, command_name, text))
    assert "Usage" in shown and usage in shown
