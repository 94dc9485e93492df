"""App Home lists only the watches of conversations the viewer is in, end to end."""

from __future__ import annotations

import json

from tests.bot_server import BotServer
from tests.fakes import FakeSlack, SlackSender
from tests.fakes.signing import USER_ID, app_home_opened_event

OTHER_USER = "U0OTHER"
TEAM = "T0TEST"
PUBLIC, PRIVATE, SECRET = "C0SALES", "G0BOARD", "G0HR"
OTHERS_DM = "D" + OTHER_USER[1:]


async def open_home(slack: SlackSender, fake_slack: FakeSlack, user: str) -> str:
    """The Home tab `user` sees, as JSON text."""
    before = len(fake_slack.calls("views.publish", user_id=user))
    assert (await slack.event(app_home_opened_event(user))).status_code == 200
    calls = await fake_slack.wait_for("views.publish", before + 1, user_id=user, timeout=10)
    assert calls[-1].ok
    return json.dumps(calls[-1].args["view"])


def watch(bot: BotServer, channel: str, location_id: int) -> None:
    bot.call(bot.runtime.store.add_watch(TEAM, channel, location_id, OTHER_USER))


def workspace(bot: BotServer, fake_slack: FakeSlack) -> None:
    """A public channel both people are in, a private one only USER_ID is in, a private one
    neither is in, and the other person's direct messages with the bot, each watching one."""
    fake_slack.add_channel(PUBLIC, "sales")
    fake_slack.add_channel(PRIVATE, "board", is_private=True)
    fake_slack.add_channel(SECRET, "hr", is_private=True)
    fake_slack.join(PUBLIC, USER_ID, OTHER_USER)
    fake_slack.join(PRIVATE, USER_ID)
    fake_slack.join(SECRET, "U0HR")
    fake_slack.join(OTHERS_DM, OTHER_USER)
    watch(bot, PUBLIC, 1001)
    watch(bot, PRIVATE, 2002)
    watch(bot, SECRET, 3003)
    watch(bot, OTHERS_DM, 4004)


async def test_each_person_sees_only_the_watches_of_conversations_they_are_in(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    workspace(bot, fake_slack)

    mine = await open_home(slack, fake_slack, USER_ID)
    assert "<#C0SALES>" in mine and "`1001`" in mine
    assert "<#G0BOARD>" in mine and "`2002`" in mine
    assert "G0HR" not in mine and "3003" not in mine  # a private channel I am not in
    assert OTHERS_DM not in mine and "4004" not in mine  # another person's DM

    theirs = await open_home(slack, fake_slack, OTHER_USER)
    assert "<#C0SALES>" in theirs and "`1001`" in theirs
    assert f"<#{OTHERS_DM}>" in theirs and "`4004`" in theirs
    assert "G0BOARD" not in theirs and "2002" not in theirs
    assert "G0HR" not in theirs and "3003" not in theirs
    asked = fake_slack.calls("users.conversations", ok=True)
    assert {c.args["user"] for c in asked} == {USER_ID, OTHER_USER}


async def test_someone_in_no_watched_channel_is_told_none_watches(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    workspace(bot, fake_slack)
    shown = await open_home(slack, fake_slack, "U0NEW")
    assert "No channel you are in watches a licence yet" in shown
    assert not any(str(n) in shown for n in (1001, 2002, 3003, 4004))


async def test_a_long_list_of_conversations_is_read_to_its_last_page(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    for n in range(450):
        fake_slack.join(f"C1{n:05d}", USER_ID)
    fake_slack.join("C9LAST", USER_ID)  # sorts after the others: on the last page
    watch(bot, "C9LAST", 1001)
    shown = await open_home(slack, fake_slack, USER_ID)
    assert "<#C9LAST>" in shown and "`1001`" in shown
    assert len(fake_slack.calls("users.conversations")) == 3  # 200 a page


async def refused_home(slack: SlackSender, fake_slack: FakeSlack) -> str:
    shown = await open_home(slack, fake_slack, USER_ID)
    assert "Slack did not tell me which channels you are in" in shown
    assert not any(str(n) in shown for n in (1001, 2002, 3003, 4004))
    assert not any(c in shown for c in (PUBLIC, PRIVATE, SECRET, OTHERS_DM))
    return shown


async def test_without_the_read_scopes_no_watch_is_listed_and_the_tab_says_why(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    workspace(bot, fake_slack)
    fake_slack.fail("users.conversations", error="missing_scope", times=None)
    shown = await refused_home(slack, fake_slack)
    assert "Log in" in shown  # the rest of the tab is still there


async def test_while_slack_limits_the_calls_no_watch_is_listed(
    bot: BotServer, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    workspace(bot, fake_slack)
    fake_slack.rate_limit("users.conversations", times=None, retry_after=0)
    await refused_home(slack, fake_slack)
