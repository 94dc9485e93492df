"""/license watch|unwatch|watching and the alert's buttons, end to end through the served bot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.storage import generate_key
from handlers.alerts.messages import ACKNOWLEDGE, OPEN_ALTEGIO, SNOOZE_1D, SNOOZE_7D
from tests.alerts.support import OPS, SALES, alerts_in, button_of, command, run_sweep, text_of
from tests.bot_server import BotServer
from tests.e2e.support import save_link
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack, SlackSender
from tests.fakes.signing import button


@pytest.fixture
def db_bot(make_bot, database_url: str) -> BotServer:
    return make_bot(
        database_url=database_url, bot_encryption_key=generate_key(), license_cache_ttl=0
    )


def in_days(n: int) -> date:
    return date.today() + timedelta(days=n)


def watch_of(bot: BotServer, location_id: int, channel: str = OPS):
    return bot.call(bot.runtime.store.get_watch(TEAM_ID, channel, location_id))


# -- /license watch | unwatch | watching --------------------------------------------------------


async def test_watch_checks_access_with_the_users_session_and_refuses_with_the_reason(
    make_bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    bot = make_bot()
    user = fake_altegio.add_user("manager@example.com", "pw")
    save_link(bot, user)
    fake_altegio.add_license(1001, days_left=100)
    fake_altegio.deny(1001, user_token=user.user_token, message="No rights in this location")
    async with SlackSender(bot.url) as slack:
        shown = await command(slack, fake_slack, "watch 1001")
    assert "Not watching location 1001" in shown and "No rights in this location" in shown
    (request,) = fake_altegio.requests("/license/1001")
    assert request.user_token == user.user_token
    assert watch_of(bot, 1001) is None


async def test_watch_of_an_unknown_location_is_refused(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    shown = await command(slack, fake_slack, "watch 999")
    assert "Altegio has no location 999" in shown
    assert bot.call(bot.runtime.store.list_watches()) == []


async def test_watch_twice_and_in_another_channel(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Business", days_left=12)
    first = await command(slack, fake_slack, "watch 1001")
    assert "This channel now watches location 1001" in first
    assert "Business" in first and "12 days left" in first and "30, 7 and 1 days" in first
    assert "already watches location 1001" in await command(slack, fake_slack, "watch 1001")
    assert "now watches" in await command(slack, fake_slack, "watch 1001", channel=SALES)
    watch = watch_of(bot, 1001)
    assert watch is not None and watch.created_by == USER_ID


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("watch", "takes one location id"),
        ("watch 1 2", "takes one location id"),
        ("watch abc", "`abc` is not a location id"),
        ("unwatch 0", "`0` is not a location id"),
        ("watching now", "takes no more words"),
    ],
)
async def test_usage_errors(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio, text: str, expected: str
) -> None:
    assert expected in await command(slack, fake_slack, text)
    assert fake_altegio.requests() == []


async def test_watching_lists_days_left_and_tolerates_a_failing_location(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Business", days_left=5)
    fake_altegio.add_license(1002, plan="Start", days_left=200)
    fake_altegio.add_license(1003, days_left=50)
    async with SlackSender(db_bot.url) as slack:
        assert "watches no locations" in await command(slack, fake_slack, "watching")
        for location_id in (1001, 1002, 1003):
            await command(slack, fake_slack, f"watch {location_id}")
        await command(slack, fake_slack, "watch 1002", channel=SALES)
        fake_altegio.fail_always("/license/1003", status=503)
        shown = await command(slack, fake_slack, "watching")
    assert "watches 3 locations" in shown
    lines = {line.split("*")[1]: line for line in shown.splitlines() if line.startswith("*Loc")}
    assert "Business" in lines["Location 1001"] and "5 days left" in lines["Location 1001"]
    assert "200 days left" in lines["Location 1002"]
    assert "Altegio is not answering" in lines["Location 1003"]


# -- the alert's buttons ------------------------------------------------------------------------


async def click(
    slack: SlackSender, fake_slack: FakeSlack, alert: dict, action_id: str, *, updates: int = 1
) -> None:
    element = button_of(alert, action_id)
    response = await slack.action(
        button(action_id, element.get("value", ""), block_id="alert_actions"),
        channel_id=alert["channel"],
        message={k: v for k, v in alert.items() if k != "channel"},
        response_url=fake_slack.response_url(),
    )
    assert response.status_code == 200
    if updates:
        await fake_slack.wait_for("chat.update", count=updates, timeout=10)


async def test_snooze_updates_the_alert_and_later_sweeps_honour_it(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=20)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert run_sweep(db_bot).posted == 1
        (alert,) = alerts_in(fake_slack)
        before = datetime.now(UTC)
        await click(slack, fake_slack, alert, SNOOZE_7D)

    (update,) = fake_slack.calls("chat.update")
    assert update.args["channel"] == OPS and update.args["ts"] == alert["ts"]
    (alert,) = alerts_in(fake_slack)  # the same message, updated in place
    shown = text_of(alert)
    assert "Snoozed by <@U0USER>" in shown and "20 days" in shown
    button_of(alert, ACKNOWLEDGE)  # still there: a snooze can be followed by an acknowledgement
    watch = watch_of(db_bot, 1001)
    assert watch.snoozed_by == USER_ID
    assert timedelta(days=7) <= watch.snoozed_until - before < timedelta(days=7, minutes=1)

    fortnight = date.today() + timedelta(days=14)  # 6 days left: under 7, but snoozed
    assert run_sweep(db_bot, today=fortnight).posted == 0  # snoozed
    after = watch.snoozed_until + timedelta(hours=1)
    reminded = run_sweep(db_bot, today=fortnight, now=after)
    assert reminded.posted == 1
    assert "Snooze over" in text_of(alerts_in(fake_slack)[-1])
    assert run_sweep(db_bot, today=fortnight, now=after).posted == 0


def a_day_later() -> datetime:
    """A sweep's clock once ALERT_REFRESH (a day) is up: far-off licences are fetched again."""
    return datetime.now(UTC) + timedelta(days=1)


async def test_acknowledge_updates_the_alert_and_silences_the_period_until_renewal(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    licence = fake_altegio.add_license(1001, days_left=20)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert run_sweep(db_bot).posted == 1
        (alert,) = alerts_in(fake_slack)
        await click(slack, fake_slack, alert, ACKNOWLEDGE)

    (alert,) = alerts_in(fake_slack)
    shown = text_of(alert)
    assert "Acknowledged by <@U0USER>" in shown and "20 days" in shown
    actions = [b for b in alert["blocks"] if b.get("block_id") == "alert_actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [OPEN_ALTEGIO]
    watch = watch_of(db_bot, 1001)
    assert (watch.acknowledged_period, watch.acknowledged_by) == (in_days(20), USER_ID)

    for days_later in (14, 19, 21):  # 7 days, 1 day, expired: all the same period
        assert run_sweep(db_bot, today=date.today() + timedelta(days=days_later)).posted == 0
    licence.deactivation_date = in_days(25)  # renewed, briefly: a new period
    # Far from its next mark, the licence is fetched again once ALERT_REFRESH (a day) is up.
    assert run_sweep(db_bot, now=a_day_later()).posted == 1
    assert len(alerts_in(fake_slack)) == 2


async def test_acknowledging_last_periods_alert_leaves_the_renewed_licence_alerted(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    licence = fake_altegio.add_license(1001, days_left=5)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert run_sweep(db_bot).posted == 1
        (last_periods,) = alerts_in(fake_slack)
        await click(slack, fake_slack, last_periods, ACKNOWLEDGE)
        # Renewed: a new period, whose first threshold (30 days) is reached at once.
        licence.deactivation_date = in_days(20)
        assert run_sweep(db_bot, now=a_day_later()).posted == 1
        _, this_periods = alerts_in(fake_slack)
        assert "20 days" in text_of(this_periods)
        await click(slack, fake_slack, this_periods, ACKNOWLEDGE, updates=2)
    assert watch_of(db_bot, 1001).acknowledged_period == in_days(20)
    # This period acknowledged: none of its later thresholds posts.
    for days_later in (14, 19, 21):
        assert run_sweep(db_bot, today=date.today() + timedelta(days=days_later)).posted == 0
    assert len(alerts_in(fake_slack)) == 2


async def test_last_periods_buttons_never_touch_the_renewed_licences_answers(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    licence = fake_altegio.add_license(1001, days_left=5)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert run_sweep(db_bot).posted == 1
        (last_periods,) = alerts_in(fake_slack)
        await click(slack, fake_slack, last_periods, SNOOZE_7D)  # its buttons stay
        assert watch_of(db_bot, 1001).snoozed_period == in_days(5)
        # Renewed for a short while only: six days left, under the 7-day mark, while last
        # period's week-long snooze still runs. This period was never snoozed: it is alerted.
        licence.deactivation_date = in_days(6)
        assert run_sweep(db_bot, now=a_day_later()).posted == 1
        _, this_periods = alerts_in(fake_slack)
        assert "6 days" in text_of(this_periods)
        assert "Snooze over" not in text_of(this_periods)
        await click(slack, fake_slack, this_periods, ACKNOWLEDGE, updates=2)
        # Someone finds last period's alert and snoozes it again, then acknowledges it: this
        # period's acknowledgement is left as it was, and the old alert shows who answered it.
        await click(slack, fake_slack, last_periods, SNOOZE_1D, updates=3)
        await click(slack, fake_slack, last_periods, ACKNOWLEDGE, updates=4)
        assert "Acknowledged by <@U0USER>" in text_of(alerts_in(fake_slack)[0])
    watch = watch_of(db_bot, 1001)
    assert (watch.acknowledged_period, watch.snoozed_period) == (in_days(6), in_days(5))
    # Five days on (1 day left), this acknowledged period stays quiet.
    assert run_sweep(db_bot, today=date.today() + timedelta(days=5)).posted == 0
    assert len(alerts_in(fake_slack)) == 2


async def test_a_button_from_before_periods_answers_the_current_period_quietly(
    db_bot: BotServer, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    async with SlackSender(db_bot.url) as slack:
        await command(slack, fake_slack, "watch 1001")
        assert run_sweep(db_bot).posted == 1
        (alert,) = alerts_in(fake_slack)
        url = fake_slack.response_url()
        # Its value names the location alone.
        response = await slack.action(
            button(ACKNOWLEDGE, "1001", block_id="alert_actions"),
            channel_id=OPS,
            message={k: v for k, v in alert.items() if k != "channel"},
            response_url=url,
        )
        assert response.status_code == 200
        await fake_slack.wait_for("chat.update", timeout=10)
    (alert,) = alerts_in(fake_slack)
    assert "Acknowledged by <@U0USER>" in text_of(alert)
    assert fake_slack.responses(url) == []  # no private complaint about the button
    assert watch_of(db_bot, 1001).acknowledged_period == in_days(5)
    assert run_sweep(db_bot, today=date.today() + timedelta(days=5)).posted == 0


async def test_a_click_after_unwatch_is_answered_privately(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    await command(slack, fake_slack, "watch 1001")
    run_sweep(bot)
    (alert,) = alerts_in(fake_slack)
    await command(slack, fake_slack, "unwatch 1001")
    url = fake_slack.response_url()
    element = button_of(alert, SNOOZE_1D)
    await slack.action(
        button(SNOOZE_1D, element["value"], block_id="alert_actions"),
        channel_id=OPS,
        message={k: v for k, v in alert.items() if k != "channel"},
        response_url=url,
    )
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "no longer watches location 1001" in text_of(reply)
    assert fake_slack.calls("chat.update") == []


async def test_the_altegio_link_is_acknowledged_and_does_nothing_else(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, days_left=5)
    await command(slack, fake_slack, "watch 1001")
    run_sweep(bot)
    (alert,) = alerts_in(fake_slack)
    link = button_of(alert, OPEN_ALTEGIO)
    assert link["url"].startswith("https://")
    response = await slack.action(
        {
            "type": "button",
            "action_id": OPEN_ALTEGIO,
            "block_id": "alert_actions",
            "action_ts": "1.2",
            "text": {"type": "plain_text", "text": "Open Altegio"},
        },
        channel_id=OPS,
        message={k: v for k, v in alert.items() if k != "channel"},
    )
    assert response.status_code == 200
    assert fake_slack.calls("chat.update") == [] and fake_slack.calls("chat.postEphemeral") == []
