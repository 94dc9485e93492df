""" "Add to Slack": the install page, the redirect, and what each workspace's token is used for."""

from __future__ import annotations

import httpx

from tests.bot_server import BotServer
from tests.fakes import CLIENT_ID, FakeAltegio, FakeSlack
from tests.tenancy.conftest import install, install_link


async def test_the_install_page_links_to_slack_with_the_apps_scopes_and_a_state(
    make_distributed_bot, fake_slack: FakeSlack
) -> None:
    bot: BotServer = make_distributed_bot()
    async with httpx.AsyncClient() as browser:
        page = await browser.get(f"{bot.base_url}/slack/install")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Add Altegio to your Slack workspace" in page.text
    link = httpx.URL(install_link(page.text))
    # Slack's consent page on SLACK_API_URL's host (the fake here; slack.com in production).
    assert str(link).startswith(f"{fake_slack.url}/oauth/v2/authorize?")
    assert link.params["client_id"] == CLIENT_ID
    assert "commands" in link.params["scope"].split(",")
    assert link.params["state"] and "slack-app-oauth-state" in page.headers["set-cookie"]


async def test_installing_two_workspaces_keeps_a_token_for_each(
    make_distributed_bot, fake_slack: FakeSlack, workspaces
) -> None:
    bot: BotServer = make_distributed_bot()
    done = await install(bot, fake_slack, "T0ONE")
    assert done.status_code == 200
    assert "Altegio is installed in <strong>Salon One</strong>" in done.text
    assert "/altegio login" in done.text
    await install(bot, fake_slack, "T0TWO")
    # oauth.v2.access went to SLACK_API_URL with the app's credentials, then auth.test with
    # each new token.
    assert len(fake_slack.calls("oauth.v2.access", ok=True)) == 2
    tokens = [c.token for c in fake_slack.calls("auth.test", ok=True)]
    assert tokens == [fake_slack.token_of("T0ONE"), fake_slack.token_of("T0TWO")]
    from bot.storage import SqlInstallationStore

    installs = SqlInstallationStore(bot.runtime.store)
    one = bot.call(installs.bot_for("T0ONE"))
    two = bot.call(installs.bot_for("T0TWO"))
    assert one.bot_token == fake_slack.token_of("T0ONE")
    assert two.bot_token == fake_slack.token_of("T0TWO")


async def test_a_cancelled_install_says_nothing_was_installed(
    make_distributed_bot, fake_slack: FakeSlack, workspaces
) -> None:
    bot: BotServer = make_distributed_bot()
    done = await install(bot, fake_slack, "T0UNKNOWN")  # the fake's consent page says no
    assert "The installation was cancelled" in done.text and "Start again" in done.text
    assert fake_slack.calls("oauth.v2.access") == []


async def test_a_redirect_without_the_browsers_cookie_or_reused_is_refused(
    make_distributed_bot, fake_slack: FakeSlack, workspaces
) -> None:
    bot: BotServer = make_distributed_bot()
    fake_slack.oauth_redirect_url = f"{bot.base_url}/slack/oauth_redirect"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(f"{bot.base_url}/slack/install", params={"team": "T0ONE"})
        consent = await browser.get(install_link(page.text))
        back = consent.headers["location"]
        async with httpx.AsyncClient() as other_browser:  # no cookie: someone else's link
            stolen = await other_browser.get(back)
        assert stolen.status_code == 400 and "Please start again in this browser" in stolen.text
        done = await browser.get(back)
        assert done.status_code == 200
        again = await browser.get(back)  # the state was used
        assert again.status_code in (400, 401) and "Start again" in again.text
    assert len(fake_slack.calls("oauth.v2.access")) == 1


async def test_each_workspace_is_answered_with_its_own_token(
    installed, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    _bot, slack = installed
    fake_altegio.add_license(4523464, plan="Business")
    for team in ("T0ONE", "T0TWO"):
        url = fake_slack.response_url()
        response = await slack.command("/license", "4523464", team_id=team, response_url=url)
        assert response.status_code == 200
        (reply,) = await fake_slack.wait_for_response(url, timeout=10)
        assert "Business" in str(reply)
    # Bolt's authorize checked each workspace's own token (auth.test on SLACK_API_URL).
    checked = {c.team for c in fake_slack.calls("auth.test") if c.ok}
    assert {"T0ONE", "T0TWO"} <= checked


async def test_a_workspace_that_never_installed_is_told_so(
    installed, fake_slack: FakeSlack
) -> None:
    _bot, slack = installed
    url = fake_slack.response_url()
    await slack.command("/license", "4523464", team_id="T0STRANGER", response_url=url)
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "not installed in this workspace" in reply["text"]
