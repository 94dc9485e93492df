"""/phone end to end."""

from __future__ import annotations

from tests.e2e.support import ask, text_of
from tests.fakes import FakeAltegio, FakeSlack, SlackSender


async def test_valid_number_with_plus_and_spaces_is_normalised_and_url_encoded(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    shown = text_of(await ask(slack, fake_slack, "/phone", "+44 20 7946 0958"))
    assert "Altegio accepts this number" in shown
    assert "+442079460958" in shown and "United Kingdom" in shown
    (request,) = fake_altegio.requests("/validation/validate_phone/")
    assert request.raw_path.endswith("/validate_phone/%2B442079460958")


async def test_number_altegio_rejects(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.phone_verdicts["+71234567890"] = False
    shown = text_of(await ask(slack, fake_slack, "/phone", "71234567890"))
    assert "does not accept" in shown and "+71234567890" in shown


async def test_rejection_as_http_error_is_shown_as_not_accepted(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    fake_altegio.invalid_phone_status = 422
    fake_altegio.phone_verdicts["+12025550100"] = False
    shown = text_of(await ask(slack, fake_slack, "/phone", "+1 202 555 0100"))
    assert "does not accept" in shown


async def test_not_a_number_gets_usage_and_no_altegio_call(
    slack: SlackSender, fake_slack: FakeSlack, fake_altegio: FakeAltegio
) -> None:
    shown = text_of(await ask(slack, fake_slack, "/phone", "call me maybe"))
    assert "doesn't look like a phone number" in shown
    assert fake_altegio.requests() == []


async def test_empty_gives_usage(slack: SlackSender, fake_slack: FakeSlack) -> None:
    assert "Usage" in text_of(await ask(slack, fake_slack, "/phone", ""))
