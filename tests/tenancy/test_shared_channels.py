"""A channel shared between two workspaces (Slack Connect) that both installed the bot and both
watch the same location hears each alert once, however many sweepers run. Each test runs on
SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.oauth import bot_tokens
from bot.retention import owner_id
from bot.settings import handler_config
from bot.slack_client import SWEEP_RETRIES, web_client
from handlers.alerts.messages import ACKNOWLEDGE, SNOOZE_7D
from handlers.store import SHARED_CHANNEL, AlertKey
from sweep.alerts import SweepSummary, sweep
from tests.alerts.support import button_of
from tests.bot_server import BotServer
from tests.fakes import FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button
from tests.tenancy.support import Member, text_of
from tests.tenancy.test_isolation import run_sweep

OPS = "C0OPS"


async def watching_from_both(
    installed: tuple[BotServer, SlackSender], fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> list[Member]:
    _bot, slack = installed
    one, two = Member(slack, fake_slack, "T0ONE"), Member(slack, fake_slack, "T0TWO")
    for member, login in ((one, "one@example.com"), (two, "two@example.com")):
        await member.login(fake_altegio.add_user(login, name=login))
        assert "now watches" in text_of(await member.command("/license", "watch 4523464"))
    fake_slack.reset_calls()
    return [one, two]


def posts(fake_slack: FakeSlack) -> list:
    return fake_slack.calls("chat.postMessage", ok=True)


async def test_a_shared_channel_hears_each_alert_once_with_two_sweepers_racing(
    installed,
    fake_slack: FakeSlack,
    fake_altegio: FakeAltegio,
    make_distributed_bot,
    shared_database: dict[str, str],
) -> None:
    bot, _slack = installed
    licence = fake_altegio.add_license(4523464, plan="Business", days_left=5)
    fake_slack.add_channel(OPS, "ops", is_shared=True, is_ext_shared=True)
    await watching_from_both(installed, fake_slack, fake_altegio)
    other_process = make_distributed_bot(**shared_database, license_cache_ttl=0)

    # Two sweepers (two processes on one database) started together.
    await asyncio.gather(*(asyncio.to_thread(run_sweep, b) for b in (bot, other_process)))
    (alert,) = posts(fake_slack)
    assert alert.args["channel"] == OPS and "4523464" in text_of(alert.args)
    assert alert.team in {"T0ONE", "T0TWO"}
    assert alert.token == fake_slack.token_of(alert.team)  # posted with its own bot
    # Both workspaces' logs know it was said (the other's by the same message); the next
    # sweeps post nothing more.
    store = bot.runtime.store
    period = licence.deactivation_date
    for team in ("T0ONE", "T0TWO", SHARED_CHANNEL):
        assert bot.call(store.sent_alert_kinds(team, OPS, 4523464, period)) == {
            "days:7",
            "days:30",
        }
    await asyncio.gather(*(asyncio.to_thread(run_sweep, b) for b in (bot, other_process)))
    assert len(posts(fake_slack)) == 1

    # The next threshold, once more for the whole channel.
    later = date.today() + timedelta(days=4)
    await asyncio.gather(
        *(
            asyncio.to_thread(run_sweep_on, b, later)
            for b in (bot, other_process, bot, other_process)
        )
    )
    assert len(posts(fake_slack)) == 2
    assert "1 day" in text_of(posts(fake_slack)[-1].args)


def run_sweep_on(bot: BotServer, today: date) -> SweepSummary:
    """One sweep of this process as `altegio-bot alerts` runs it, on `today` (at its noon)."""
    runtime = bot.runtime
    assert runtime is not None
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    async def go() -> SweepSummary:
        client = web_client(runtime.settings, runtime.http, retries=SWEEP_RETRIES)
        return await sweep(
            runtime.altegio,
            runtime.store,
            client,
            handler_config(runtime.settings),
            owner=owner_id(),
            bot_tokens=bot_tokens(runtime.settings, runtime.store, client),
            as_members=True,
            today=today,
            now=now,
        )

    return bot.call(go(), timeout=60)


async def test_a_channel_slack_does_not_call_shared_is_each_workspaces_own(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    """The same channel id in two workspaces, not shared: two channels, an alert in each."""
    bot, _slack = installed
    fake_altegio.add_license(4523464, days_left=5)
    await watching_from_both(installed, fake_slack, fake_altegio)
    summary = run_sweep(bot)
    assert summary.posted == 2
    assert sorted(c.team for c in posts(fake_slack)) == ["T0ONE", "T0TWO"]
    assert run_sweep(bot).posted == 0


async def test_a_shared_channels_claim_in_flight_or_failed_is_posted_once_later(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, _slack = installed
    licence = fake_altegio.add_license(4523464, days_left=5)
    fake_slack.add_channel(OPS, "ops", is_shared=True, is_ext_shared=True)
    await watching_from_both(installed, fake_slack, fake_altegio)
    store = bot.runtime.store
    period = licence.deactivation_date
    # A sweeper elsewhere is posting it for the channel right now (its claim's lease runs).
    held = AlertKey(SHARED_CHANNEL, OPS, 4523464, period, "days:7")
    assert bot.call(store.claim_alert(held, owner="elsewhere", lease_seconds=1.5))
    assert run_sweep(bot).posted == 0
    assert posts(fake_slack) == []
    for team in ("T0ONE", "T0TWO"):  # nothing taken as said: left for a later sweep
        assert bot.call(store.sent_alert_kinds(team, OPS, 4523464, period)) == set()
    await asyncio.sleep(1.6)  # that sweeper died: its claim ran out
    # Slack refuses the first post: the claim for the channel goes back too, so the same sweep
    # or the next posts it, once.
    fake_slack.fail("chat.postMessage", error="internal_error")
    run_sweep(bot)
    run_sweep(bot)
    assert len(posts(fake_slack)) == 1
    assert run_sweep(bot).posted == 0


async def test_each_workspaces_members_answer_the_one_alert_for_their_own_watch(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot, _slack = installed
    fake_altegio.add_license(4523464, days_left=5)
    fake_slack.add_channel(OPS, "ops", is_shared=True, is_ext_shared=True)
    members = {m.team: m for m in await watching_from_both(installed, fake_slack, fake_altegio)}
    assert run_sweep(bot).posted == 1
    (alert,) = fake_slack.messages
    poster = members[alert["team"]]
    (other,) = [m for m in members.values() if m is not poster]
    message = {k: v for k, v in alert.items() if k != "channel"}

    def clicked(action_id: str) -> tuple[dict, str]:
        element = button_of(alert, action_id)
        url = fake_slack.response_url()
        return button(action_id, element["value"], block_id="alert_actions"), url

    # Someone from the other workspace snoozes it: their own workspace's watch, told privately
    # (only the posting workspace's bot may change the message).
    action, url = clicked(SNOOZE_7D)
    await other.click(action, channel_id=OPS, message=message, response_url=url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert reply["response_type"] == "ephemeral"
    assert f"Snoozed by <@{other.user}>" in reply["text"]
    store = bot.runtime.store
    assert bot.call(store.get_watch(other.workspace, OPS, 4523464)).snoozed_by == other.user
    assert bot.call(store.get_watch(poster.workspace, OPS, 4523464)).snoozed_until is None
    assert "Snoozed" not in text_of(fake_slack.messages[0])
    # Someone from the posting workspace acknowledges it: the message says so.
    action, url = clicked(ACKNOWLEDGE)
    await poster.click(action, channel_id=OPS, message=message, response_url=url)
    await fake_slack.wait_for("chat.update", count=2, timeout=10)
    assert "Acknowledged by" in text_of(fake_slack.messages[0])
    watch = bot.call(store.get_watch(poster.workspace, OPS, 4523464))
    assert watch.acknowledged_by == poster.user
    assert bot.call(store.get_watch(other.workspace, OPS, 4523464)).acknowledged_by is None
