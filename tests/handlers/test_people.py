"""handlers/people.py against the fake Slack: who a user is, asked once and remembered."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.people import People
from tests.fakes import FakeSlack
from tests.fakes.slack_workspace import BOT_TOKEN, TEAM_ID


def _client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


async def test_a_member_of_the_workspace_with_their_locale(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U1", "anna", real_name="Anna Petrova", locale="de-DE")
    person = await People().person(_client(fake_slack), TEAM_ID, "U1")
    assert person.known and not person.is_guest
    assert person.locale == "de-DE" and person.name == "Anna Petrova"
    assert person.belongs_to(TEAM_ID) and not person.is_outsider(TEAM_ID)


async def test_guests_and_people_from_another_organisation_are_outsiders(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.add_user("U2", "guest", is_restricted=True)
    fake_slack.add_user("U3", "single", is_ultra_restricted=True)
    fake_slack.add_user("U4", "partner", team_id="T0OTHER")
    people, client = People(), _client(fake_slack)
    for user in ("U2", "U3", "U4"):
        assert (await people.person(client, TEAM_ID, user)).is_outsider(TEAM_ID), user
    assert (await people.person(client, TEAM_ID, "U4")).team_id == "T0OTHER"


async def test_asked_once_then_remembered(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U1", "anna")
    people, client = People(), _client(fake_slack)
    await people.person(client, TEAM_ID, "U1")
    await people.person(client, TEAM_ID, "U1")
    assert len(fake_slack.calls("users.info")) == 1


async def test_slack_refusing_leaves_the_person_unknown_and_untrusted(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail("users.info", error="user_not_found")
    people, client = People(), _client(fake_slack)
    person = await people.person(client, TEAM_ID, "U9")
    assert not person.known and person.is_outsider(TEAM_ID)
    # Not remembered: the next request asks again.
    assert (await people.person(client, TEAM_ID, "U9")).known
