"""/altegio, the login form and /phone for people with Spanish and Russian Slack, end to end:
the served bot asks the fake Slack's users.info for their locale and answers in it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.bot_server import BotServer
from tests.e2e.support import text_of
from tests.e2e.test_account import PASSWORD, action_ids, field_errors, submit
from tests.fakes import FakeAltegio, FakeSlack, SlackSender

ANA = "U0ANA"  # Spanish (Latin America) Slack
IVAN = "U0IVAN"  # Russian Slack


def people(fake_slack: FakeSlack) -> None:
    fake_slack.add_user(ANA, "ana", locale="es-LA")
    fake_slack.add_user(IVAN, "ivan", locale="ru-RU")


async def ask(
    slack: SlackSender, fake_slack: FakeSlack, user: str, command: str, text: str
) -> dict[str, Any]:
    url = fake_slack.response_url()
    response = await slack.command(command, text, response_url=url, user_id=user)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=15)
    return reply


async def open_login(
    slack: SlackSender, fake_slack: FakeSlack, user: str, url: str
) -> dict[str, Any]:
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    response = await slack.command(
        "/altegio", "login", trigger_id=trigger, user_id=user, response_url=url
    )
    assert response.status_code == 200
    (call,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    assert call.ok  # the fake Slack refuses a view beyond Slack's limits, as Slack does
    return call.args["view"]


async def test_phone_in_spanish_and_russian(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    es = text_of(await ask(slack, fake_slack, ANA, "/phone", "+44 20 7946 0958"))
    assert "Altegio acepta este número" in es and "+442079460958" in es
    assert "Reino Unido (GB)" in es and "Tipo de línea" in es and "fijo" in es
    fake_altegio.phone_verdicts["+79123456789"] = False
    ru = text_of(await ask(slack, fake_slack, IVAN, "/phone", "+7 912 345 67 89"))
    assert "Altegio не принимает этот номер" in ru and "+79123456789" in ru
    assert "Россия (RU)" in ru and "мобильный" in ru
    refused = text_of(await ask(slack, fake_slack, IVAN, "/phone", "позвони мне"))
    assert "не похоже на номер телефона" in refused and "*Как пользоваться*" in refused
    assert "Usage" not in refused + es + ru


async def test_login_form_refusal_link_whoami_and_logout_in_russian(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    user = fake_altegio.add_user("ivan@example.com", PASSWORD, name="Иван")
    url = fake_slack.response_url()
    view = await open_login(slack, fake_slack, IVAN, url)
    assert view["title"]["text"] == "Вход в Altegio"
    assert view["submit"]["text"] == "Войти" and view["close"]["text"] == "Отмена"
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Логин Altegio (e-mail или телефон)", "Пароль Altegio"]

    errors = field_errors(await submit(slack, view, user.login, "wrong", user_id=IVAN))
    assert errors["password"].startswith("Altegio не принял этот логин и пароль")
    errors = field_errors(await submit(slack, view, " ", "", user_id=IVAN))
    assert errors == {
        "login": "Введите e-mail или телефон, с которыми вы входите в Altegio.",
        "password": "Введите пароль Altegio.",
    }

    response = await submit(slack, view, user.login, PASSWORD, user_id=IVAN)
    assert response.status_code == 200 and response.text == ""
    (confirmation,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "Вы привязаны к Altegio как *Иван*" in text_of(confirmation)

    whoami = await ask(slack, fake_slack, IVAN, "/altegio", "кто я")
    assert "Вы привязаны к Altegio как *Иван*" in text_of(whoami)
    assert action_ids(whoami["blocks"]) == ["altegio_logout"]
    gone = text_of(await ask(slack, fake_slack, IVAN, "/altegio", "logout"))
    assert "Готово: я забыл вашу сессию Altegio (Иван)" in gone


async def test_altegio_in_spanish_before_and_after_linking(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    nobody = await ask(slack, fake_slack, ANA, "/altegio", "whoami")
    assert "No has vinculado ninguna cuenta de Altegio" in text_of(nobody)
    assert "Vincular cuenta de Altegio" in text_of(nobody)  # the login button
    usage = text_of(await ask(slack, fake_slack, ANA, "/altegio", "ayuda"))
    assert "*Uso*" in usage and "vincula tu cuenta de Altegio" in usage
    unknown = text_of(await ask(slack, fake_slack, ANA, "/altegio", "bailar"))
    assert "`/altegio` no tiene el comando `bailar`" in unknown
    nothing = text_of(await ask(slack, fake_slack, ANA, "/altegio", "cerrar sesión"))
    assert "No estás vinculado a ninguna cuenta de Altegio" in nothing

    user = fake_altegio.add_user("ana@example.com", PASSWORD, name="Ana")
    url = fake_slack.response_url()
    view = await open_login(slack, fake_slack, ANA, url)
    assert view["title"]["text"] == "Acceso a Altegio"
    response = await submit(slack, view, user.login, PASSWORD, user_id=ANA)
    assert response.status_code == 200 and response.text == ""
    (confirmation,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "Estás vinculado a Altegio como *Ana*" in text_of(confirmation)
    shown = text_of(await ask(slack, fake_slack, ANA, "/altegio", "whoami"))
    assert "Estás vinculado a Altegio como *Ana*" in shown and "a las {time}" in shown
