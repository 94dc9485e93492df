"""Photo replies in the language of whoever shared the photo or pressed Try again, end to end:
people with Spanish and Russian Slack share photos with the served bot."""

from __future__ import annotations

from handlers.blocks import LOGIN_ACTION
from handlers.images.messages import RETRY_ACTION
from tests.bot_server import BotServer
from tests.e2e.test_images import JPEG, buttons, link, text_of, thread_replies
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button, message_event

ANA = "U0ANA"  # Spanish (Latin America) Slack
IVAN = "U0IVAN"  # Russian Slack


def people(fake_slack: FakeSlack) -> None:
    fake_slack.add_user(ANA, "ana", locale="es-LA")
    fake_slack.add_user(IVAN, "ivan", locale="ru-RU")


def shared(fake_slack: FakeSlack, user: str, caption: str, name: str = "retrato.jpg") -> dict:
    file = fake_slack.add_file(JPEG, name)
    return message_event(caption, files=[file], user=user)


async def test_an_upload_and_a_try_again_in_spanish(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    link(bot, fake_altegio, ANA)
    event = shared(fake_slack, ANA, "profesional 17 sucursal 4523464")
    await slack.event(event)
    (done,) = await thread_replies(fake_slack, event)
    shown = text_of(done.args)
    assert "`retrato.jpg` es ahora la imagen del profesional 17 en la sucursal 4523464" in shown
    assert f"Subida con la propia cuenta de Altegio de <@{ANA}> (Maria Manager)." in shown

    fake_altegio.fail_always("/images/service", status=503)
    event = shared(fake_slack, ANA, "servicio 9 sucursal 4523464", "menu.jpg")
    await slack.event(event)
    (failure,) = await thread_replies(fake_slack, event)
    shown = text_of(failure.args)
    assert "`menu.jpg` no se subió para el servicio 9 en la sucursal 4523464" in shown
    assert "Altegio no responde en este momento" in shown
    (retry,) = buttons(failure.args)
    assert retry["action_id"] == RETRY_ACTION and retry["text"]["text"] == "Reintentar"
    # The audit trail is read by the operator: its reason stays English, like the log.
    refused = [e for e in bot.call(bot.runtime.store.list_audit()) if e.ok is False]
    assert [e.reason for e in refused] == [
        "Altegio is not answering right now. Try again in a few minutes."
    ]

    fake_altegio.rules.clear()
    url = fake_slack.response_url()
    message = {"type": "message", "ts": failure.response["ts"], **failure.args}
    await slack.action(
        button(RETRY_ACTION, retry["value"]), message=message, response_url=url, user_id=ANA
    )
    replies = await thread_replies(fake_slack, event, 2)
    assert "es ahora la imagen del servicio 9" in text_of(replies[-1].args)
    (updated,) = await fake_slack.wait_for_response(url, timeout=10)
    assert f"<@{ANA}> lo intentó de nuevo" in text_of(updated)


async def test_caption_problems_and_the_login_prompt_in_russian(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    people(fake_slack)
    event = shared(fake_slack, IVAN, "мастер 17 филиал 4523464")
    await slack.event(event)
    (prompt,) = await fake_slack.wait_for("chat.postEphemeral", timeout=10)
    shown = text_of(prompt.args)
    assert "Чтобы загрузить `retrato.jpg` в Altegio, мне нужен ваш аккаунт Altegio" in shown
    (login,) = buttons(prompt.args)
    assert login["action_id"] == LOGIN_ACTION
    assert login["text"]["text"] == "Привязать аккаунт Altegio"

    link(bot, fake_altegio, IVAN)
    event = shared(fake_slack, IVAN, "Фото мастера 17")
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    shown = text_of(reply.args)
    assert "В каком филиале сотрудник 17? Добавьте `филиал <id>`" in shown
    assert "`мастер 17 филиал 4523464`" in shown and "*Подписи к фото*" in shown

    event = shared(fake_slack, IVAN, "мастер 17 мастер 18 филиал 4523464")
    await slack.event(event)
    (reply,) = await thread_replies(fake_slack, event)
    assert "В подписи 2 разных id сотрудника (17, 18); укажите один." in text_of(reply.args)
    assert fake_altegio.uploads == []
