"""/license end to end: signed requests to the served bot, replies read from response_url."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.support import ask, text_of
from tests.fakes import FakeAltegio, FakeSlack, SlackSender


async def test_license_card_shows_plan_dates_days_left_staff_and_options(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(
        4523464,
        plan="Business",
        days_left=12,
        staff_limit=0,
        options=[{"id": 1, "title": "Online booking"}],
    )
    reply = await ask(slack, fake_slack, "/license", "4523464")
    shown = text_of(reply)
    assert reply["response_type"] == "ephemeral"
    assert "Location 4523464" in shown and "Business" in shown and "Active" in shown
    assert ":warning: *12 days*" in shown  # under the first alert threshold (30)
    assert "Unlimited" in shown and "Online booking" in shown
    (request,) = fake_altegio.requests("/license/4523464")
    assert request.headers["accept"] == "application/vnd.api.v2+json"


async def test_expired_licence_is_marked(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(77, days_left=-3, active=False, staff_limit=5)
    shown = text_of(await ask(slack, fake_slack, "/license", "77"))
    assert "expired 3 days ago" in shown and "Inactive" in shown and "\n5" in shown


async def test_several_ids_give_one_card_each_and_name_the_unknown(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(1001, plan="Start")
    fake_altegio.add_license(1002, plan="Pro")
    shown = text_of(await ask(slack, fake_slack, "/license", "1001 1002 1003"))
    assert "Location 1001" in shown and "Location 1002" in shown
    assert "Altegio has no location 1003." in shown


async def test_unknown_location_says_so_by_id(slack: SlackSender, fake_slack: FakeSlack) -> None:
    shown = text_of(await ask(slack, fake_slack, "/license", "999"))
    assert "Altegio has no location 999." in shown


async def test_malformed_id_gets_usage_naming_the_word_and_calls_nothing(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    shown = text_of(await ask(slack, fake_slack, "/license", "12ab"))
    assert "`12ab` is not a location id" in shown and "Usage" in shown
    assert fake_altegio.requests("/license/") == []


async def test_empty_and_help_show_usage(slack: SlackSender, fake_slack: FakeSlack) -> None:
    for text in ("", "help"):
        assert "/license watch" in text_of(await ask(slack, fake_slack, "/license", text))


async def test_too_many_ids_are_refused(slack: SlackSender, fake_slack: FakeSlack) -> None:
    shown = text_of(
        await ask(slack, fake_slack, "/license", " ".join(str(i) for i in range(1, 12)))
    )
    assert "10 at most" in shown


async def test_altegio_failing_twice_then_recovering_still_answers(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464, plan="Start")
    fake_altegio.fail("/license/", status=500, times=2)
    shown = text_of(await ask(slack, fake_slack, "/license", "4523464"))
    assert "Location 4523464" in shown
    assert len(fake_altegio.requests("/license/")) == 3


async def test_altegio_down_gives_a_clear_reply_and_the_next_command_works(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464)
    fake_altegio.fail_always("/license/", status=503)
    shown = text_of(await ask(slack, fake_slack, "/license", "4523464"))
    assert "Altegio is not answering right now" in shown
    fake_altegio.reset()
    fake_altegio.add_license(4523464, plan="Start")
    assert "Location 4523464" in text_of(await ask(slack, fake_slack, "/license", "4523464"))


async def test_slow_altegio_does_not_delay_the_ack(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464)
    fake_altegio.delay(1.5, "/license/")
    url = fake_slack.response_url()
    started = time.monotonic()
    response = await slack.command("/license", "4523464", response_url=url)
    acked_after = time.monotonic() - started
    assert response.status_code == 200
    assert acked_after < 1.0
    (reply,) = await fake_slack.wait_for_response(url, timeout=10)
    assert "Location 4523464" in text_of(reply)


async def test_concurrent_identical_lookups_make_one_altegio_call(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.add_license(4523464)
    fake_altegio.latency = 0.2
    urls = [fake_slack.response_url() for _ in range(50)]
    await asyncio.gather(*(slack.command("/license", "4523464", response_url=u) for u in urls))
    for url in urls:
        await fake_slack.wait_for_response(url, timeout=15)
    assert len(fake_altegio.requests("/license/")) == 1


async def test_bad_signature_and_stale_timestamp_are_refused_and_reach_nothing(
    bot, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    from tests.fakes.signing import slash_command

    fake_altegio.add_license(4523464)
    forged = slash_command("/license", "4523464", secret="not-the-secret")
    stale = slash_command("/license", "4523464", timestamp=int(time.time()) - 600)
    async with SlackSender(bot.url) as sender:
        assert (await sender.post(forged)).status_code == 401
        assert (await sender.post(stale)).status_code == 401
    await asyncio.sleep(0.2)
    assert fake_altegio.requests() == []
