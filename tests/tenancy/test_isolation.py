"""Each installed workspace sees only its own data, and every Slack call carries its own token.

The same user and channel ids are used in both workspaces on purpose: only the workspace may
tell their rows apart. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.slack_client import SWEEP_RETRIES, web_client
from bot.sweeper import sweep_once
from handlers.alerts import messages as alert_messages
from sweep.alerts import SweepSummary
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button, message_event
from tests.tenancy.support import Member, text_of

OPS = "C0OPS"


def members(installed: tuple[BotServer, SlackSender], fake_slack: FakeSlack) -> list[Member]:
    _bot, slack = installed
    return [Member(slack, fake_slack, "T0ONE"), Member(slack, fake_slack, "T0TWO")]


def run_sweep(bot: BotServer) -> SweepSummary:
    runtime = bot.runtime
    assert runtime is not None

    async def go() -> SweepSummary:
        return await sweep_once(
            runtime, web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES)
        )

    return bot.call(go(), timeout=60)


async def eventually(check: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Events are acknowledged before they are handled: wait for `check()` to hold."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def assert_every_call_carries_its_workspaces_token(fake_slack: FakeSlack) -> None:
    """No Web API call went out with a token Slack does not know, or with none at all."""
    for call in fake_slack.calls():
        if call.method == "oauth.v2.access":
            continue
        assert call.team is not None, (call.method, call.args)


async def test_linked_sessions_belong_to_their_workspace(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    one, two = members(installed, fake_slack)
    maria = fake_altegio.add_user("one@example.com", name="Maria One")
    await one.login(maria)
    assert "Maria One" in text_of(await one.command("/altegio", "whoami"))
    # The same Slack user id in the other workspace is another person, not linked.
    assert "You have not linked an Altegio account" in text_of(
        await two.command("/altegio", "whoami")
    )
    petra = fake_altegio.add_user("two@example.com", name="Petra Two")
    await two.login(petra)
    assert "Petra Two" in text_of(await two.command("/altegio", "whoami"))
    assert "Maria One" in text_of(await one.command("/altegio", "whoami"))
    # Each acts in Altegio as its own person: Petra may not see Maria's location.
    fake_altegio.add_license(4523464, plan="Business")
    fake_altegio.deny(4523464, user_token=petra.user_token)
    assert "Business" in text_of(await one.command("/license", "4523464"))
    assert "Business" not in text_of(await two.command("/license", "4523464"))
    tokens = {r.headers.get("authorization", "") for r in fake_altegio.requests("/license/")}
    assert any(maria.user_token in t for t in tokens)
    assert any(petra.user_token in t for t in tokens)
    # Logging out in one leaves the other linked.
    await two.command("/altegio", "logout")
    assert "Maria One" in text_of(await one.command("/altegio", "whoami"))
    assert_every_call_carries_its_workspaces_token(fake_slack)


async def test_watches_home_tabs_and_buttons_belong_to_their_workspace(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, _slack = installed
    one, two = members(installed, fake_slack)
    fake_altegio.add_license(4523464, plan="Business", days_left=5)
    await one.login(fake_altegio.add_user("one@example.com", name="Maria One"))
    await two.login(fake_altegio.add_user("two@example.com", name="Petra Two"))
    assert "now watches location 4523464" in text_of(
        await one.command("/license", "watch 4523464", channel=OPS)
    )
    # The other workspace's channel with the same id watches nothing.
    listed = text_of(await two.command("/license", "watching", channel=OPS))
    assert "4523464" not in listed
    assert "4523464" in text_of(await one.command("/license", "watching", channel=OPS))
    # Home tabs: each lists its own workspace's watches, published with its own token.
    for member in (one, two):
        fake_slack.join(OPS, member.user, team=member.workspace)
    assert "4523464" in json.dumps(await one.open_home())
    assert "4523464" not in json.dumps(await two.open_home())
    # A click in the other workspace on a forged alert button changes nothing here.
    value = alert_messages.button_value(4523464, None)
    await two.click(button(alert_messages.SNOOZE_7D, value), channel_id=OPS)
    await two.click(button(alert_messages.ACKNOWLEDGE, value), channel_id=OPS)
    store = bot.runtime.store
    watch = bot.call(store.get_watch("T0ONE", OPS, 4523464))
    assert watch.snoozed_until is None and watch.acknowledged_by is None
    # Unwatching there does not unwatch here.
    await two.command("/license", "unwatch 4523464", channel=OPS)
    assert bot.call(store.get_watch("T0ONE", OPS, 4523464)) is not None
    assert_every_call_carries_its_workspaces_token(fake_slack)


async def test_a_photo_is_fetched_and_answered_with_its_workspaces_token_only(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    one, two = members(installed, fake_slack)
    await one.login(fake_altegio.add_user("one@example.com", name="Maria One"))
    await two.login(fake_altegio.add_user("two@example.com", name="Petra Two"))
    fake_altegio.add_license(4523464)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 256
    shared = fake_slack.add_file(jpeg, "maria.jpg", team="T0ONE", user=one.user)
    await one.event(message_event("master 17 location 4523464", channel=OPS, files=[shared]))
    await fake_slack.wait_for("chat.postMessage", timeout=15)
    (_upload,) = fake_altegio.uploads
    (download,) = fake_slack.downloads(shared["id"])
    assert download.headers["authorization"] == f"Bearer {fake_slack.token_of('T0ONE')}"
    replies = fake_slack.calls("chat.postMessage")
    assert {c.team for c in replies} == {"T0ONE"}
    # The same file shown to the other workspace: its token cannot read it, nothing uploads.
    await two.event(message_event("master 17 location 4523464", channel=OPS, files=[shared]))
    await fake_slack.wait_for("chat.postMessage", 2, timeout=15)
    assert len(fake_altegio.uploads) == 1
    assert all(
        d.headers.get("authorization") != f"Bearer {fake_slack.token_of('T0ONE')}"
        for d in fake_slack.downloads(shared["id"])[1:]
    )
    assert_every_call_carries_its_workspaces_token(fake_slack)


async def test_the_sweep_posts_with_each_workspaces_token_and_fetches_as_each_member(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, _slack = installed
    one, two = members(installed, fake_slack)
    maria = fake_altegio.add_user("one@example.com", name="Maria One")
    petra = fake_altegio.add_user("two@example.com", name="Petra Two")
    await one.login(maria)
    await two.login(petra)
    fake_altegio.add_license(4523464, plan="Business", days_left=5)
    fake_altegio.add_license(4523465, plan="Start", days_left=3)
    await one.command("/license", "watch 4523464", channel=OPS)
    await two.command("/license", "watch 4523465", channel=OPS)
    fake_slack.reset_calls()
    fake_altegio.reset_requests()

    summary = run_sweep(bot)
    assert summary.posted == 2
    posts = {c.team: c for c in fake_slack.calls("chat.postMessage", ok=True)}
    assert set(posts) == {"T0ONE", "T0TWO"}
    assert "4523464" in text_of(posts["T0ONE"].args) and "4523465" in text_of(posts["T0TWO"].args)
    assert posts["T0ONE"].token == fake_slack.token_of("T0ONE")
    (fetch_one,) = fake_altegio.requests("/license/4523464")
    (fetch_two,) = fake_altegio.requests("/license/4523465")
    assert maria.user_token in fetch_one.headers["authorization"]
    assert petra.user_token in fetch_two.headers["authorization"]

    # Petra leaves Altegio linking: her watch is announced once, and fetched no more.
    await two.command("/altegio", "logout")
    fake_slack.reset_calls()
    fake_altegio.reset_requests()
    run_sweep(bot)
    (notice,) = fake_slack.calls("chat.postMessage", ok=True)
    assert notice.team == "T0TWO" and notice.args["channel"] == OPS
    said = text_of(notice.args)
    assert f"<@{two.user}>" in said and "/altegio login" in said
    assert "/license watch 4523465" in said
    assert fake_altegio.requests("/license/4523465") == []
    run_sweep(bot)
    assert len(fake_slack.calls("chat.postMessage")) == 1  # told once
    assert fake_altegio.requests("/license/4523465") == []


async def test_watching_needs_a_linked_account_in_a_distributed_app(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    one, _two = members(installed, fake_slack)
    fake_altegio.add_license(4523464)
    reply = await one.command("/license", "watch 4523464", channel=OPS)
    assert "now watches" not in text_of(reply)
    assert "link" in text_of(reply).lower()


async def test_an_org_wide_install_serves_every_workspace_of_the_org_with_one_token(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, slack = installed
    alpha = Member(slack, fake_slack, "T0ORGA", enterprise_id="E0ORG", org_wide=True)
    beta = Member(slack, fake_slack, "T0ORGB", enterprise_id="E0ORG", org_wide=True)
    outsider = Member(slack, fake_slack, "T0ONE")
    fake_altegio.add_license(4523464, plan="Business", days_left=5)
    await alpha.login(fake_altegio.add_user("org@example.com", name="Olga Org"))
    assert "now watches" in text_of(await alpha.command("/license", "watch 4523464"))
    # Another workspace of the org: the same installation, the same user (ids span the org).
    assert "Olga Org" in text_of(await beta.command("/altegio", "whoami"))
    assert "4523464" in text_of(await beta.command("/license", "watching"))
    assert "4523464" not in text_of(await outsider.command("/license", "watching"))
    org_calls = [c for c in fake_slack.calls() if c.token == fake_slack.token_of("E0ORG")]
    assert org_calls and {c.team for c in org_calls} == {"E0ORG"}
    assert bot.call(bot.runtime.store.list_watches("E0ORG"))
    assert_every_call_carries_its_workspaces_token(fake_slack)


def _uninstalled(*, org: str | None = None) -> dict[str, Any]:
    return {"type": "app_uninstalled", "event_ts": "1700000000.000100"}


async def test_uninstalling_deletes_that_workspace_only_in_every_process(
    installed,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    make_distributed_bot,
    shared_database: dict[str, str],
) -> None:
    bot, _slack = installed
    one, two = members(installed, fake_slack)
    fake_altegio.add_license(4523464, days_left=5)
    for member, login in ((one, "one@example.com"), (two, "two@example.com")):
        await member.login(fake_altegio.add_user(login, name=login))
        await member.command("/license", "watch 4523464", channel=OPS)
    run_sweep(bot)
    other_process = make_distributed_bot(**shared_database)
    store = bot.runtime.store

    fake_slack.revoke("T0ONE")
    tokens_revoked = {
        "type": "tokens_revoked",
        "tokens": {"bot": ["UT0ONEBOT"]},
        "event_ts": "1700000000.000200",
    }
    # Either order, more than once.
    await one.event(tokens_revoked)
    await one.event(_uninstalled())
    await one.event(tokens_revoked)
    await one.event(_uninstalled())
    await eventually(lambda: not bot.call(store.list_watches("T0ONE")))
    await asyncio.sleep(0.3)  # the repeats, handled after the first

    for process in (bot, other_process):
        s = process.runtime.store
        assert process.call(s.get_account("T0ONE", one.user)) is None
        assert process.call(s.list_watches("T0ONE")) == []
        assert process.call(s.sent_alert_kinds("T0ONE", OPS, 4523464, None)) == set()
    from bot.storage import SqlInstallationStore

    assert bot.call(SqlInstallationStore(store).bot_for("T0ONE")) is None
    # The other workspace is untouched.
    assert bot.call(store.get_account("T0TWO", two.user)) is not None
    assert len(bot.call(store.list_watches("T0TWO"))) == 1
    assert bot.call(SqlInstallationStore(store).bot_for("T0TWO")) is not None
    # The audit trail outlives the workspace: its install, then one uninstall.
    gone = [(e.action, e.ok) for e in bot.call(store.list_audit(team_id="T0ONE"))]
    assert gone[0] == ("install", True) and gone[-1] == ("uninstall", True)
    assert [a for a, _ in gone].count("uninstall") == 1
    assert "uninstall" not in {e.action for e in bot.call(store.list_audit(team_id="T0TWO"))}

    # Whichever process gets the next request from the gone workspace says it is not installed.
    async with SlackSender(other_process.url) as elsewhere:
        reply = await Member(elsewhere, fake_slack, "T0ONE").command("/license", "4523464")
    assert "not installed in this workspace" in reply["text"]
    fake_slack.reset_calls()
    run_sweep(other_process)
    assert {c.team for c in fake_slack.calls("chat.postMessage")} <= {"T0TWO"}


async def test_a_users_revoked_tokens_forget_that_users_session_only(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, _slack = installed
    one, two = members(installed, fake_slack)
    await one.login(fake_altegio.add_user("one@example.com", name="Maria One"))
    await two.login(fake_altegio.add_user("two@example.com", name="Petra Two"))
    await two.event(
        {"type": "tokens_revoked", "tokens": {"oauth": [two.user]}, "event_ts": "1700000000.1"}
    )
    store = bot.runtime.store
    await eventually(lambda: bot.call(store.get_account("T0TWO", two.user)) is None)
    assert bot.call(store.get_account("T0TWO", two.user)) is None
    assert bot.call(store.get_account("T0ONE", one.user)) is not None
    # The workspace itself stays installed.
    assert "You have not linked" in text_of(await two.command("/altegio", "whoami"))
