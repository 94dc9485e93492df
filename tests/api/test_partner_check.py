"""A 401 blames the user token only once a partner-only check has shown that Altegio still
accepts the partner token: the check is shared by a burst, its verdict reused for a while, sent in
the login lane, and when it cannot say (timeout, 5xx, 429), the call fails as Altegio being
unreachable or busy rather than as a refused token."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from api import AuthenticationError, CacheTTLs, RateLimited, Unavailable, lane
from api.errors import PartnerTokenRefused
from api.lanes import current
from tests.api.conftest import PARTNER, USER, fail, ok

LICENSE = {"id": 1, "salon_id": 4523464, "name": "Start", "active": 1, "options": []}


def route(check: httpx.Response | Exception, licence: httpx.Response | None = None):
    """Licences answer `licence` (a generic 401 by default), the partner check `check`."""

    def answer(request: httpx.Request) -> httpx.Response:
        if "/validation/validate_phone/" in request.url.path:
            if isinstance(check, Exception):
                raise check
            return check
        return licence or fail(401, "Unauthorized")

    return answer


def checks(script) -> list[httpx.Request]:
    return [r for r in script.requests if "/validation/validate_phone/" in r.url.path]


async def test_a_burst_of_refusals_is_one_check(client, script):
    script.queue(route(ok({"is_valid": True})))
    results = await asyncio.gather(
        *(client.get_license(i, user_token=USER) for i in range(1, 21)), return_exceptions=True
    )
    assert all(isinstance(r, AuthenticationError) and r.token == "user" for r in results)
    (check,) = checks(script)
    assert check.headers["authorization"] == f"Bearer {PARTNER}"
    # Reused afterwards too, for as long as CacheTTLs.partner_check says.
    with pytest.raises(AuthenticationError):
        await client.get_license(99, user_token=USER)
    assert len(checks(script)) == 1


async def test_the_verdict_is_asked_again_once_it_is_old(make_client, script):
    client = make_client(cache=CacheTTLs(partner_check=0))
    script.queue(route(ok({"is_valid": False})))
    for location in (1, 2):
        with pytest.raises(AuthenticationError):
            await client.get_license(location, user_token=USER)
    assert len(checks(script)) == 2


@pytest.mark.parametrize(
    "answer", [ok({"is_valid": True}), fail(422, "Phone number is invalid"), fail(400)]
)
async def test_any_verdict_on_the_number_means_the_partner_token_passed(client, script, answer):
    script.queue(route(answer))
    with pytest.raises(AuthenticationError) as caught:
        await client.get_license(1, user_token=USER)
    assert caught.value.token == "user" and not isinstance(caught.value, PartnerTokenRefused)


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (httpx.ReadTimeout("slow"), Unavailable),
        (httpx.ConnectError("down"), Unavailable),
        (fail(503, "Maintenance"), Unavailable),
        (httpx.Response(200, text="<html>proxy</html>"), Unavailable),
        (fail(403, "Access denied"), Unavailable),
        (fail(429), RateLimited),
    ],
)
async def test_a_check_that_cannot_say_fails_the_call_as_altegio_unreachable(
    make_client, script, answer, raised
):
    client = make_client(max_retries=3)
    script.queue(route(answer))
    with pytest.raises(raised) as caught:
        await client.get_license(1, user_token=USER)
    assert not isinstance(caught.value, AuthenticationError)
    assert len(checks(script)) == 1  # the check is not retried
    assert not client.partner_token_refused
    # Nothing was concluded, so the next 401 is checked again.
    with pytest.raises(raised):
        await client.get_license(2, user_token=USER)
    assert len(checks(script)) == 2


async def test_a_refused_partner_token_is_logged_once_per_verdict_and_cleared_by_a_success(
    make_client, script, caplog
):
    client = make_client(license_ttl=0)
    caplog.set_level(logging.DEBUG)
    script.queue(route(fail(401, "Unauthorized")))
    results = await asyncio.gather(
        *(client.get_license(i, user_token=USER) for i in range(1, 11)), return_exceptions=True
    )
    assert all(isinstance(r, PartnerTokenRefused) and r.token == "partner" for r in results)
    assert client.partner_token_refused
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "partner token" in errors[0].getMessage()
    assert PARTNER not in caplog.text and USER not in caplog.text
    # A call that succeeds proves the partner token works again.
    script.queue(route(fail(401), ok(LICENSE)))
    assert (await client.get_license(1, user_token=USER)).id == 1
    assert not client.partner_token_refused
    assert "accepts the partner token again" in caplog.text


async def test_a_check_that_accepts_the_token_again_clears_the_refusal(make_client, script):
    client = make_client(cache=CacheTTLs(partner_check=0))
    script.queue(route(fail(401)))
    with pytest.raises(PartnerTokenRefused):
        await client.get_license(1, user_token=USER)
    assert client.partner_token_refused
    script.queue(route(ok({"is_valid": True})))
    assert await client.partner_token_accepted()
    assert not client.partner_token_refused


class LaneRecorder:
    def __init__(self) -> None:
        self.lanes: list[str] = []

    async def acquire(self) -> None:
        self.lanes.append(current()[0])


async def test_the_check_goes_in_the_login_lane(make_client, script):
    limiter = LaneRecorder()
    client = make_client(limiter=limiter)
    script.queue(route(ok({"is_valid": True})))
    with lane("sweep"), pytest.raises(AuthenticationError):
        await client.get_license(1, user_token=USER)
    assert limiter.lanes == ["sweep", "login"]
