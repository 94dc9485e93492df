"""/altegio login|whoami|logout, the login modal and App Home, end to end through the served bot."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.storage import generate_key
from handlers.blocks import LOGIN_ACTION
from handlers.errors import NotLinked, SessionEnded
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.altegio_data import FakeUser
from tests.fakes.signing import USER_ID, app_home_opened_event, button, text_inputs

OTHER_USER = "U0OTHER"
PASSWORD = "Correct-Horse-7731-only-once"


def text_of(reply: dict[str, Any]) -> str:
    parts = [reply.get("text", "")]
    for block in reply.get("blocks", []):
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        for element in block.get("elements", []):
            if isinstance(element, dict):
                parts.append(str(element.get("text", "")))
    return "\n".join(str(p) for p in parts)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        e["action_id"]
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if "action_id" in e
    ]


async def ask(slack: SlackSender, fake_slack: FakeSlack, text: str, **kwargs: Any) -> dict:
    url = fake_slack.response_url()
    response = await slack.command("/altegio", text, response_url=url, **kwargs)
    assert response.status_code == 200
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    return reply


async def open_login(
    slack: SlackSender, fake_slack: FakeSlack, *, response_url: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    """`/altegio login`; returns the modal the bot opened with the command's trigger_id."""
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    if response_url is not None:
        kwargs["response_url"] = response_url
    response = await slack.command("/altegio", "login", trigger_id=trigger, **kwargs)
    assert response.status_code == 200
    (call,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    assert call.ok
    return call.args["view"]


async def submit(
    slack: SlackSender, view: dict[str, Any], login: str, password: str, **kwargs: Any
) -> httpx.Response:
    return await slack.submit(
        view["callback_id"],
        text_inputs({"login": login, "password": password}),
        private_metadata=view["private_metadata"],
        **kwargs,
    )


def field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    return body["errors"]


async def link(
    slack: SlackSender,
    fake_slack: FakeSlack,
    user: FakeUser,
    password: str = PASSWORD,
    **kwargs: Any,
) -> None:
    view = await open_login(slack, fake_slack, **kwargs)
    user_id = kwargs.get("user_id", USER_ID)
    response = await submit(slack, view, user.login, password, user_id=user_id)
    assert response.status_code == 200
    assert response.text == ""  # a bare ack closes the modal


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def account_of(bot: BotServer, user_id: str = USER_ID):
    return bot.call(bot.runtime.store.get_account("T0TEST", user_id))


# ---------------------------------------------------------------------- the slash command


async def test_whoami_before_login_says_not_linked_with_the_login_button(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    reply = await ask(slack, fake_slack, "whoami")
    assert reply["response_type"] == "ephemeral"
    assert "You have not linked an Altegio account" in text_of(reply)
    assert action_ids(reply["blocks"]) == [LOGIN_ACTION]


async def test_help_empty_and_unknown_subcommands_show_usage(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    for text in ("", "help"):
        shown = text_of(await ask(slack, fake_slack, text))
        assert "/altegio login" in shown and "/altegio logout" in shown
    shown = text_of(await ask(slack, fake_slack, "frobnicate now"))
    assert "no `frobnicate` command" in shown and "/altegio whoami" in shown


async def test_login_opens_a_modal_with_the_commands_trigger_id(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    view = await open_login(slack, fake_slack)
    assert view["type"] == "modal" and view["callback_id"] == "altegio_login"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert set(inputs) == {"login", "password"}
    assert all(b["element"]["type"] == "plain_text_input" for b in inputs.values())
    assert "never stored" in inputs["password"]["hint"]["text"]
    assert fake_altegio.requests() == []  # nothing is asked of Altegio before the submit


async def test_wrong_password_is_refused_on_the_modal_and_links_nothing(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    view = await open_login(slack, fake_slack)
    errors = field_errors(await submit(slack, view, user.login, "not-the-password"))
    assert "did not accept that login and password" in errors["password"]
    assert account_of(bot) is None
    assert "not linked" in text_of(await ask(slack, fake_slack, "whoami"))


async def test_empty_fields_are_refused_without_asking_altegio(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    view = await open_login(slack, fake_slack)
    errors = field_errors(await submit(slack, view, "   ", ""))
    assert set(errors) == {"login", "password"}
    assert fake_altegio.requests("/auth") == []


@pytest.mark.parametrize(
    ("fault", "sentence"),
    [
        ({"status": 503}, "Altegio is not answering right now"),
        ({"status": 429, "retry_after": 0}, "Altegio is busy right now"),
        ({"body": "html", "status": 502}, "Altegio is not answering right now"),
    ],
)
async def test_altegio_trouble_keeps_the_modal_open_and_says_so(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    fault: dict[str, Any],
    sentence: str,
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    fake_altegio.fail_always("/auth", **fault)
    view = await open_login(slack, fake_slack)
    errors = field_errors(await submit(slack, view, user.login, PASSWORD))
    assert sentence in errors["password"]
    assert account_of(bot) is None


async def test_refused_partner_token_is_named_on_the_modal(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot(altegio_partner_token="not-the-partner-token")
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    async with SlackSender(bot.url) as slack:
        view = await open_login(slack, fake_slack)
        errors = field_errors(await submit(slack, view, user.login, PASSWORD))
    assert "partner token" in errors["password"]


async def test_slow_altegio_is_answered_on_the_modal_within_slacks_three_seconds(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    # Altegio's own timeout is longer than Slack's deadline: the submission's budget decides.
    bot = make_bot(altegio_timeout=10)
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    fake_altegio.delay(5, "/auth")
    async with SlackSender(bot.url) as slack:
        view = await open_login(slack, fake_slack)
        started = time.monotonic()
        response = await submit(slack, view, user.login, PASSWORD)
        assert time.monotonic() - started < 2.9
    assert "Altegio is slow" in field_errors(response)["password"]
    assert account_of(bot) is None


async def test_the_right_password_links_confirms_privately_and_whoami_names_the_user(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    url = fake_slack.response_url()
    await link(slack, fake_slack, user, response_url=url)
    (confirmation,) = await fake_slack.wait_for_response(url, timeout=10)
    assert confirmation["response_type"] == "ephemeral"
    assert "linked to Altegio as *Maria Manager*" in confirmation["text"]
    (auth,) = fake_altegio.requests("/auth")
    assert auth.json == {"login": "manager@example.com", "password": PASSWORD}

    account = account_of(bot)
    assert (account.name, account.login, account.altegio_user_id) == (
        "Maria Manager",
        "manager@example.com",
        user.id,
    )
    assert account.user_token == user.user_token

    shown = text_of(await ask(slack, fake_slack, "whoami"))
    assert "Maria Manager" in shown and "manager@example.com" in shown
    assert f"Altegio user {user.id}" in shown and "<!date^" in shown
    await fake_slack.wait_for("views.publish", user_id=USER_ID)  # App Home caught up


async def test_without_a_reachable_response_url_the_confirmation_is_a_direct_message(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    await link(slack, fake_slack, user)  # the default response_url is a closed port
    (call,) = await fake_slack.wait_for("chat.postMessage", channel=USER_ID, timeout=10)
    assert "Maria Manager" in call.args["text"]


async def test_user_token_and_password_appear_nowhere_in_plain_text(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464)
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    secrets = [PASSWORD, user.user_token]
    answers: list[str] = []

    view = await open_login(slack, fake_slack, response_url=fake_slack.response_url())
    answers.append((await submit(slack, view, user.login, "wrong-" + PASSWORD)).text)
    answers.append((await submit(slack, view, user.login, PASSWORD)).text)
    await fake_slack.wait_for("views.publish", user_id=USER_ID, timeout=10)
    url = fake_slack.response_url()
    answers.append((await slack.command("/license", "4523464", response_url=url)).text)
    await fake_slack.wait_for_response(url, timeout=10)
    assert fake_altegio.requests("/license/4523464")[0].user_token == user.user_token
    answers.append(text_of(await ask(slack, fake_slack, "whoami")))
    answers.append((await slack.event(app_home_opened_event())).text)
    await fake_slack.wait_for("views.publish", 2, user_id=USER_ID, timeout=10)

    database_files = files_under(tmp_path)
    assert any(p.name == "bot.db" for p in database_files)
    slack_traffic = [json.dumps([c.args, c.response]) for c in fake_slack.calls()]
    slack_traffic += [json.dumps(body) for body in fake_slack.responses()]
    logs = [caplog.text] + [r.getMessage() for r in caplog.records]
    assert any("linked an Altegio account" in line for line in logs)
    for secret in secrets:
        for path in database_files:
            assert secret.encode() not in path.read_bytes(), path.name
        assert not [line for line in logs if secret in line]
        assert not [body for body in slack_traffic if secret in body]
        assert not [answer for answer in answers if secret in answer]


async def test_logout_forgets_at_once_and_then_whoami_says_not_linked(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    await link(slack, fake_slack, user)
    assert account_of(bot) is not None
    shown = text_of(await ask(slack, fake_slack, "logout"))
    assert "forgotten your Altegio session" in shown and "Maria Manager" in shown
    assert account_of(bot) is None
    assert "not linked" in text_of(await ask(slack, fake_slack, "whoami"))
    assert "nothing to forget" in text_of(await ask(slack, fake_slack, "logout"))


@pytest.mark.parametrize("how", ["revoke_token", "change_password"])
async def test_a_token_altegio_starts_refusing_ends_the_session_on_next_use(
    bot: BotServer,
    slack: SlackSender,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    how: str,
) -> None:
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464)
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    await link(slack, fake_slack, user)
    if how == "revoke_token":
        fake_altegio.revoke_token(user.user_token)
    else:
        fake_altegio.change_password(user.login, "a-new-password")

    url = fake_slack.response_url()
    await slack.command("/license", "4523464", response_url=url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert SessionEnded.message in text_of(reply)
    assert action_ids(reply["blocks"]) == [LOGIN_ACTION]
    assert account_of(bot) is None
    assert "not linked" in text_of(await ask(slack, fake_slack, "whoami"))


async def test_one_user_never_acts_with_another_users_session(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464)
    maria = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    await link(slack, fake_slack, maria)

    assert "not linked" in text_of(await ask(slack, fake_slack, "whoami", user_id=OTHER_USER))
    url = fake_slack.response_url()
    await slack.command("/license", "4523464", response_url=url, user_id=OTHER_USER)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert NotLinked.message in text_of(reply)
    assert [r.user_token for r in fake_altegio.requests("/license/")] == [None]
    shown = text_of(await ask(slack, fake_slack, "logout", user_id=OTHER_USER))
    assert "nothing to forget" in shown

    # A second account, linked by the other user, stays theirs alone.
    olga = fake_altegio.add_user("olga@example.com", "Olgas-own-pass-42", name="Olga Owner")
    await link(slack, fake_slack, olga, "Olgas-own-pass-42", user_id=OTHER_USER)
    assert "Maria Manager" in text_of(await ask(slack, fake_slack, "whoami"))
    assert "Olga Owner" in text_of(await ask(slack, fake_slack, "whoami", user_id=OTHER_USER))
    for user_id, token in ((USER_ID, maria.user_token), (OTHER_USER, olga.user_token)):
        url = fake_slack.response_url()
        await slack.command("/license", "4523464", response_url=url, user_id=user_id)
        await fake_slack.wait_for_response(url, timeout=10)
        assert fake_altegio.requests("/license/")[-1].user_token == token
    assert account_of(bot).name == "Maria Manager"


async def test_login_button_on_a_prompt_opens_the_modal_and_the_link_replaces_the_prompt(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    url, trigger = fake_slack.response_url(), f"{int(time.time())}.{uuid.uuid4().hex}"
    response = await slack.action(button(LOGIN_ACTION), response_url=url, trigger_id=trigger)
    assert response.status_code == 200
    (call,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    assert (await submit(slack, call.args["view"], user.login, PASSWORD)).text == ""
    (confirmation,) = await fake_slack.wait_for_response(url, timeout=10)
    assert confirmation["replace_original"] is True
    assert "Maria Manager" in confirmation["text"]


async def test_logout_button_on_the_whoami_reply_replaces_it(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    await link(slack, fake_slack, user)
    reply = await ask(slack, fake_slack, "whoami")
    assert action_ids(reply["blocks"]) == ["altegio_logout"]
    url = fake_slack.response_url()
    await slack.action(button("altegio_logout"), response_url=url)
    (answer,) = await fake_slack.wait_for_response(url, timeout=10)
    assert answer["replace_original"] is True and "forgotten" in answer["text"]
    assert account_of(bot) is None


async def test_an_expired_trigger_is_explained(slack: SlackSender, fake_slack: FakeSlack) -> None:
    fake_slack.fail("views.open", error="expired_trigger_id")
    shown = text_of(await ask(slack, fake_slack, "login"))
    assert "Run `/altegio login` again" in shown


# ---------------------------------------------------------------------- App Home


async def test_home_shows_the_link_state_and_the_watched_licences_without_asking_altegio(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    store = bot.runtime.store
    bot.call(store.add_watch("T0TEST", "C0ONE", 4523464, OTHER_USER))
    bot.call(store.add_watch("T0TEST", "C0ONE", 1001, OTHER_USER))
    bot.call(store.add_watch("T0TEST", "C0TWO", 77, OTHER_USER))
    bot.call(store.add_watch("T0ELSE", "C0ELSE", 5, OTHER_USER))
    fake_slack.join("C0ONE", USER_ID, OTHER_USER)
    fake_slack.join("C0TWO", USER_ID)
    fake_slack.join("C0ELSE", USER_ID, team="T0ELSE")
    fake_altegio.fail_always(status=503)

    assert (await slack.event(app_home_opened_event())).status_code == 200
    (call,) = await fake_slack.wait_for("views.publish", user_id=USER_ID, timeout=10)
    home = call.args["view"]
    shown = text_of(home)
    assert home["type"] == "home"
    assert "not linked an Altegio account" in shown and action_ids(home["blocks"]) == [LOGIN_ACTION]
    assert "<#C0ONE>" in shown and "`1001`" in shown and "`4523464`" in shown
    assert "<#C0TWO>" in shown and "`77`" in shown
    assert "C0ELSE" not in shown  # another workspace's watches
    assert fake_altegio.requests() == []


async def test_home_after_login_offers_logout_and_its_button_forgets_the_session(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    await link(slack, fake_slack, user)
    (call,) = await fake_slack.wait_for("views.publish", user_id=USER_ID, timeout=10)
    home = call.args["view"]
    assert "Maria Manager" in text_of(home) and "No channel you are in watches" in text_of(home)
    assert action_ids(home["blocks"]) == [LOGIN_ACTION, "altegio_logout"]

    response = await slack.action(button("altegio_logout"), view={"type": "home"})
    assert response.status_code == 200
    calls = await fake_slack.wait_for("views.publish", 2, user_id=USER_ID, timeout=10)
    assert "not linked" in text_of(calls[-1].args["view"])
    assert account_of(bot) is None


async def test_home_login_button_links_and_confirms_by_direct_message(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    user = fake_altegio.add_user("manager@example.com", PASSWORD)
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    await slack.action(button(LOGIN_ACTION), view={"type": "home"}, trigger_id=trigger)
    (call,) = await fake_slack.wait_for("views.open", trigger_id=trigger, timeout=10)
    assert (await submit(slack, call.args["view"], user.login, PASSWORD)).text == ""
    (dm,) = await fake_slack.wait_for("chat.postMessage", channel=USER_ID, timeout=10)
    assert "Maria Manager" in dm.args["text"]
    (home,) = await fake_slack.wait_for("views.publish", user_id=USER_ID, timeout=10)
    assert "Maria Manager" in text_of(home.args["view"])
    assert account_of(bot).altegio_user_id == user.id


async def test_opening_the_messages_tab_publishes_nothing(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(app_home_opened_event(tab="messages"))).status_code == 200
    await ask(slack, fake_slack, "help")  # handled after the event: the event is done too
    assert fake_slack.calls("views.publish") == []


# ---------------------------------------------------------------------- both databases


async def test_link_use_refusal_and_logout_on_each_database(
    make_bot, database_url: str, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    # No licence cache: the second lookup must reach Altegio to hear the refusal.
    bot = make_bot(
        database_url=database_url, bot_encryption_key=generate_key(), license_cache_ttl=0
    )
    fake_altegio.license_requires_user = True
    fake_altegio.add_license(4523464, plan="Business")
    user = fake_altegio.add_user("manager@example.com", PASSWORD, name="Maria Manager")
    async with SlackSender(bot.url) as slack:
        await link(slack, fake_slack, user)
        assert "Maria Manager" in text_of(await ask(slack, fake_slack, "whoami"))
        url = fake_slack.response_url()
        await slack.command("/license", "4523464", response_url=url)
        (reply,) = await fake_slack.wait_for_response(url, timeout=10)
        assert "Business" in text_of(reply)

        fake_altegio.revoke_token(user.user_token)
        url = fake_slack.response_url()
        await slack.command("/license", "4523464", response_url=url)
        (reply,) = await fake_slack.wait_for_response(url, timeout=10)
        assert SessionEnded.message in text_of(reply)
        assert bot.call(bot.runtime.store.get_account("T0TEST", USER_ID)) is None

        await link(slack, fake_slack, user)
        assert "forgotten" in text_of(await ask(slack, fake_slack, "logout"))
        assert "not linked" in text_of(await ask(slack, fake_slack, "whoami"))
