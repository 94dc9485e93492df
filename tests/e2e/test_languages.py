"""Replies in the reader's Slack language, alerts in the watcher's, end to end: people with
Spanish and Russian Slack locales use /license and the alert's buttons through the served bot."""

from __future__ import annotations

import json
from datetime import date, timedelta

from babel.dates import format_date

from handlers.alerts.messages import ACKNOWLEDGE, SNOOZE_1D
from tests.alerts.support import OPS, alerts_in, button_of, run_sweep
from tests.alerts.support import text_of as message_text
from tests.bot_server import BotServer
from tests.e2e.support import text_of
from tests.fakes import USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import app_home_opened_event, button

ANA = "U0ANA"  # Spanish (Latin America) Slack
IVAN = "U0IVAN"  # Russian Slack
FAN = "U0FAN"  # a language the bot does not speak


def people(fake_slack: FakeSlack) -> None:
    fake_slack.add_user(ANA, "ana", locale="es-LA")
    fake_slack.add_user(IVAN, "ivan", locale="ru-RU")
    fake_slack.add_user(FAN, "fan", locale="fr-FR")


async def ask(
    slack: SlackSender, fake_slack: FakeSlack, user: str, text: str, command: str = "/license"
) -> dict:
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url, user_id=user, channel_id=OPS)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    return reply


def in_days(n: int, locale: str) -> str:
    return format_date(date.today() + timedelta(days=n), format="medium", locale=locale)


async def test_the_licence_card_in_spanish(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    fake_altegio.add_license(
        4523464,
        plan="Business",
        days_left=12,
        staff_limit=1500,
        options=[{"id": 1, "title": "SMS"}],
    )
    shown = text_of(await ask(slack, fake_slack, ANA, "4523464"))
    assert "*Sucursal 4523464* · Business · :large_green_circle: Activa" in shown
    assert in_days(12, "es") in shown  # e.g. 9 dic 2026
    assert ":warning: *12 días*" in shown
    assert "Límite de personal" in shown and "1.500" in shown
    assert "Opciones: SMS" in shown
    assert "Location" not in shown and "days" not in shown


async def test_days_left_in_russian_take_one_two_and_five_forms(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    for location, left in ((1001, 1), (1002, 2), (1003, 5)):
        fake_altegio.add_license(location, days_left=left)
    shown = text_of(await ask(slack, fake_slack, IVAN, "1001 1002 1003"))
    assert "*1 день*" in shown and "*2 дня*" in shown and "*5 дней*" in shown
    assert "Филиал 1001" in shown and in_days(5, "ru") in shown  # e.g. 9 дек. 2026 г.
    expired = text_of(await ask(slack, fake_slack, IVAN, "1001 1004"))
    assert "В Altegio нет филиала 1004." in expired


async def test_errors_and_usage_in_the_readers_language(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    assert "В Altegio нет филиала 999." in text_of(await ask(slack, fake_slack, IVAN, "999"))
    refused = text_of(await ask(slack, fake_slack, ANA, "12ab"))
    assert "`12ab` no es un id de sucursal" in refused and "*Uso*" in refused
    fake_altegio.add_license(77)
    fake_altegio.fail("/license/", status=503, times=10)
    down = text_of(await ask(slack, fake_slack, ANA, "77"))
    assert "Altegio no responde en este momento" in down


async def test_a_language_the_bot_does_not_speak_gets_english_and_people_are_asked_once(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    fake_altegio.add_license(1001, days_left=40)
    assert "Location 1001" in text_of(await ask(slack, fake_slack, FAN, "1001"))
    for _ in range(3):
        assert "Филиал 1001" in text_of(await ask(slack, fake_slack, IVAN, "1001"))
    assert len(fake_slack.calls("users.info", user=IVAN)) == 1


async def test_default_locale_answers_whoever_slack_cannot_place(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    bot = make_bot(default_locale="es")
    fake_altegio.add_license(1001, days_left=40)
    async with SlackSender(bot.url) as slack:
        assert "Sucursal 1001" in text_of(await ask(slack, fake_slack, FAN, "1001"))
        fake_slack.fail("users.info", error="ratelimited", times=None)
        # users.info failing: the answer still comes, in DEFAULT_LOCALE.
        assert "Sucursal 1001" in text_of(await ask(slack, fake_slack, "U0NEW", "1001"))
        assert "Филиал 1001" not in text_of(await ask(slack, fake_slack, IVAN, "1001"))


async def test_watching_in_russian_and_the_alert_speaks_the_watchers_language(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    fake_altegio.add_license(1001, plan="Business", days_left=5)
    watched = text_of(await ask(slack, fake_slack, IVAN, "watch 1001"))
    assert "Теперь этот канал следит за филиалом 1001" in watched
    assert "осталось 5 дней" in watched
    listed = text_of(await ask(slack, fake_slack, ANA, "watching"))
    assert "Este canal vigila 1 sucursal" in listed

    assert run_sweep(bot).posted == 1
    (alert,) = alerts_in(fake_slack)
    shown = message_text(alert)
    assert "*Филиал 1001*: лицензия Altegio истекает через *5 дней*" in shown
    assert in_days(5, "ru") in shown
    assert button_of(alert, SNOOZE_1D)["text"]["text"] == "Отложить на 1 день"

    # Ana, reading Spanish, snoozes it: the alert keeps the watcher's language.
    element = button_of(alert, SNOOZE_1D)
    await slack.action(
        button(SNOOZE_1D, element["value"], block_id="alert_actions"),
        channel_id=OPS,
        user_id=ANA,
        message={k: v for k, v in alert.items() if k != "channel"},
        response_url=fake_slack.response_url(),
    )
    await fake_slack.wait_for("chat.update", timeout=10)
    (alert,) = alerts_in(fake_slack)
    assert f"<@{ANA}> отложил(а)" in message_text(alert)
    assert button_of(alert, ACKNOWLEDGE)["text"]["text"] == "Принято"


async def test_watching_again_takes_the_new_watchers_language(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    fake_altegio.add_license(1001, days_left=5)
    await ask(slack, fake_slack, IVAN, "watch 1001")
    already = text_of(await ask(slack, fake_slack, ANA, "watch 1001"))
    assert "Este canal ya vigila la sucursal 1001" in already
    assert run_sweep(bot).posted == 1
    (alert,) = alerts_in(fake_slack)
    assert "*Sucursal 1001*: la licencia de Altegio vence en *5 días*" in message_text(alert)
    assert USER_ID not in message_text(alert)


async def open_home(slack: SlackSender, fake_slack: FakeSlack, user: str) -> str:
    before = len(fake_slack.calls("views.publish", user_id=user))
    assert (await slack.event(app_home_opened_event(user))).status_code == 200
    calls = await fake_slack.wait_for("views.publish", before + 1, user_id=user, timeout=10)
    assert calls[-1].ok  # the fake refuses a view beyond Block Kit's limits
    return json.dumps(calls[-1].args["view"], ensure_ascii=False)


async def test_the_home_tab_in_spanish_and_russian(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    fake_slack.add_channel(OPS, "ops")
    fake_slack.join(OPS, ANA, IVAN)
    fake_altegio.add_license(1001, days_left=5)
    await ask(slack, fake_slack, IVAN, "watch 1001")

    spanish = await open_home(slack, fake_slack, ANA)
    assert "Tu cuenta de Altegio" in spanish and "No has vinculado" in spanish
    assert "Iniciar sesión" in spanish and "Licencias vigiladas" in spanish
    assert f"<#{OPS}>" in spanish and "Sucursales: `1001`" in spanish
    russian = await open_home(slack, fake_slack, IVAN)
    assert "Ваш аккаунт Altegio" in russian and "Отслеживаемые лицензии" in russian
    assert "Филиалы: `1001`" in russian and "Your Altegio account" not in russian
