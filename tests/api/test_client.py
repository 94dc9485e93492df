"""AltegioClient against a scripted Altegio: headers, URLs, envelopes, every error, retries."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from api import (
    AccessDenied,
    AltegioClient,
    AltegioError,
    AuthenticationError,
    ImageUpload,
    InvalidCredentials,
    InvalidInput,
    License,
    NotFound,
    PhoneValidation,
    RateLimited,
    Retries,
    Unavailable,
)
from tests.api.conftest import BASE, PARTNER, USER, fail, ok

LICENSE = {
    "id": 1,
    "salon_id": 4523464,
    "staff_limit": 0,
    "deactivation_date": "31.12.2025",
    "start_date": "01.01.2025",
    "name": "Start",
    "active": 1,
    "is_paid_rights_model": True,
    "options": [{"id": 1, "title": "Online booking"}],
}
USER_DATA = {
    "id": 77,
    "user_token": "fresh-user-token",
    "name": "Ann",
    "phone": "79161234567",
    "login": "ann@example.com",
    "email": "ann@example.com",
    "avatar": None,
    "is_approved": True,
    "is_email_confirmed": True,
}
GROUP = {
    "id": 46,
    "entity": "master",
    "entity_id": 17,
    "images": {
        "basic": {
            "id": 81,
            "path": "https://a.test/b.png",
            "width": 200,
            "height": 200,
            "type": "png",
            "image_group_id": 46,
            "version": "basic",
        }
    },
}


# ------------------------------------------------------------------ headers and URLs


async def test_partner_only_headers(client, script):
    script.queue(ok(LICENSE))
    await client.get_license(4523464)
    request = script.requests[0]
    assert request.method == "GET"
    assert request.headers["accept"] == "application/vnd.api.v2+json"
    assert request.headers["authorization"] == f"Bearer {PARTNER}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers.get_list("authorization") == [f"Bearer {PARTNER}"]
    assert request.headers.get_list("accept") == ["application/vnd.api.v2+json"]


async def test_user_headers_and_no_growth_across_calls(make_client, script):
    client = make_client(license_ttl=0)
    script.queue(ok(LICENSE))
    for _ in range(3):
        await client.get_license(4523464, user_token=USER)
    await client.get_license(4523464)
    values = [r.headers.get_list("authorization") for r in script.requests]
    assert values[:3] == [[f"Bearer {PARTNER}, User {USER}"]] * 3
    assert values[3] == [f"Bearer {PARTNER}"]


async def test_secretstr_tokens_are_accepted(make_client, script):
    client = make_client(partner_token=SecretStr(PARTNER))
    script.queue(ok(LICENSE))
    await client.get_license(4523464, user_token=SecretStr(USER))
    assert script.requests[0].headers["authorization"] == f"Bearer {PARTNER}, User {USER}"
    assert PARTNER not in repr(client)


async def test_blank_user_token_means_partner_only(client, script):
    script.queue(ok(LICENSE))
    await client.get_license(4523464, user_token="  ")
    assert script.requests[0].headers["authorization"] == f"Bearer {PARTNER}"


@pytest.mark.parametrize(
    "base",
    [
        "https://altegio.test/api/v1",
        "https://altegio.test/api/v1/",
        " https://altegio.test/api/v1//",
    ],
)
async def test_base_url_with_or_without_slash(make_client, script, base):
    client = make_client(base_url=base)
    script.queue(ok(LICENSE))
    await client.get_license(4523464)
    assert str(script.requests[0].url) == "https://altegio.test/api/v1/license/4523464"


async def test_base_url_at_the_host_root(make_client, script):
    client = make_client(base_url="http://127.0.0.1:8080")
    script.queue(ok({"is_valid": True}))
    await client.validate_phone("+1")
    assert script.requests[0].url.raw_path == b"/validation/validate_phone/%2B1"


@pytest.mark.parametrize(
    ("phone", "segment"),
    [
        ("+442079460958", b"%2B442079460958"),
        ("442079460958", b"442079460958"),
        ("+44 20 7946 0958", b"%2B44%2020%207946%200958"),
        ("+7 (916) 123-45-67", b"%2B7%20%28916%29%20123-45-67"),
        ("12/34?x#y", b"12%2F34%3Fx%23y"),
    ],
)
async def test_phone_is_one_encoded_path_segment(client, script, phone, segment):
    script.queue(ok({"is_valid": True}))
    await client.validate_phone(phone)
    assert script.requests[0].url.raw_path == b"/api/v1/validation/validate_phone/" + segment


def test_constructor_refuses_bad_settings():
    with pytest.raises(ValueError, match="partner token"):
        AltegioClient(BASE, "  ")
    with pytest.raises(ValueError, match="http"):
        AltegioClient("api.alteg.io/api/v1", PARTNER)
    with pytest.raises(ValueError):
        AltegioClient(BASE, PARTNER, retries=Retries(max_retries=-1))


@pytest.mark.parametrize("bad", [0, -3, "abc", 1.5, None, True, "4 5"])
async def test_bad_location_ids_never_reach_altegio(client, script, bad):
    with pytest.raises(InvalidInput):
        await client.get_license(bad)
    assert script.calls == 0


async def test_numeric_string_location_id_is_accepted(client, script):
    script.queue(ok(LICENSE))
    await client.get_license("4523464")
    assert script.requests[0].url.path.endswith("/license/4523464")


# ------------------------------------------------------------------ envelope and models


async def test_license_enveloped(client, script):
    script.queue(ok(LICENSE))
    lic = await client.get_license(4523464)
    assert isinstance(lic, License)
    assert (lic.location_id, lic.plan, lic.active) == (4523464, "Start", True)
    assert lic.deactivation_date == date(2025, 12, 31)
    assert lic.days_left(date(2025, 12, 30)) == 1


async def test_license_bare_object(client, script):
    script.queue(httpx.Response(200, json={**LICENSE, "active": False}))
    lic = await client.get_license(4523464)
    assert lic.active is False and lic.plan == "Start"


async def test_license_envelope_with_meta_object(client, script):
    script.queue(httpx.Response(200, json={"success": True, "data": LICENSE, "meta": {"x": 1}}))
    assert (await client.get_license(4523464)).id == 1


async def test_license_without_salon_id_takes_the_requested_one(client, script):
    data = {k: v for k, v in LICENSE.items() if k != "salon_id"}
    script.queue(ok(data))
    assert (await client.get_license(99)).location_id == 99


async def test_license_in_a_one_item_list(client, script):
    script.queue(ok([LICENSE]))
    assert (await client.get_license(4523464)).id == 1


@pytest.mark.parametrize("data", [None, [], {}])
async def test_license_success_without_data_is_not_found(client, script, data):
    script.queue(ok(data))
    with pytest.raises(NotFound):
        await client.get_license(5)


async def test_unreadable_license_is_unavailable(client, script):
    script.queue(ok({**LICENSE, "deactivation_date": "soon"}))
    with pytest.raises(Unavailable, match="licence the bot could not read") as caught:
        await client.get_license(4523464)
    assert "deactivation_date" in caught.value.message


async def test_success_false_with_200_is_an_error(client, script):
    script.queue(
        httpx.Response(
            200, json={"success": False, "data": None, "meta": {"message": "Something is off"}}
        )
    )
    with pytest.raises(InvalidInput, match="Something is off"):
        await client.get_license(4523464)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"is_valid": True}, True),
        ({"is_valid": False}, False),
        ({"is_valid": 1}, True),
        (False, False),
    ],
)
async def test_phone_verdicts(client, script, payload, expected):
    script.queue(ok(payload))
    result = await client.validate_phone("+442079460958")
    assert isinstance(result, PhoneValidation) and result.is_valid is expected


async def test_phone_bare_object(client, script):
    script.queue(httpx.Response(200, json={"is_valid": True}))
    assert (await client.validate_phone("+442079460958")).is_valid is True


@pytest.mark.parametrize("status", [400, 422])
async def test_phone_refused_with_an_error_is_invalid(client, script, status):
    script.queue(fail(status, "Invalid phone number", {"phone": ["bad"]}))
    result = await client.validate_phone("+1")
    assert result.is_valid is False and result.message == "Invalid phone number"


async def test_empty_phone_never_reaches_altegio(client, script):
    with pytest.raises(InvalidInput):
        await client.validate_phone("   ")
    assert script.calls == 0


# ------------------------------------------------------------------ error mapping


REFUSED = fail(401, "Unauthorized")
CHECK_OK = ok({"is_valid": True})


@pytest.mark.parametrize(
    ("message", "user_token", "check", "token"),
    [
        # Altegio names the partner token: believed whatever the check says (it is still made,
        # so the operator hears of a refused partner token once).
        ("Partner token is invalid", USER, CHECK_OK, "partner"),
        ("Invalid partner authorization", None, REFUSED, "partner"),
        ("Partner or user token is wrong", USER, CHECK_OK, "partner"),
        ("Partner token is invalid", USER, fail(503), "partner"),
        # Any other words: the partner-only check says whose token it was.
        ("User token expired", USER, CHECK_OK, "user"),
        ("Authentication needed", USER, CHECK_OK, "user"),
        (None, USER, CHECK_OK, "user"),
        ("Unauthorized", USER, CHECK_OK, "user"),
        ("Доступ запрещён", USER, CHECK_OK, "user"),
        ("Unauthorized", USER, REFUSED, "partner"),
        ("Доступ запрещён", USER, fail(401, "Доступ запрещён"), "partner"),
        ("User token expired", USER, REFUSED, "partner"),
        (None, USER, fail(401), "partner"),
        ("User authorization failed", None, CHECK_OK, "user"),
        ("Authentication needed", None, CHECK_OK, "user"),
        ("Authentication needed", None, REFUSED, "partner"),
        (None, None, fail(401), "partner"),
    ],
)
async def test_401_says_which_token(client, script, message, user_token, check, token):
    script.queue(fail(401, message), check)
    with pytest.raises(AuthenticationError) as caught:
        await client.get_license(4523464, user_token=user_token)
    assert caught.value.token == token
    assert caught.value.status == 401
    if message:
        assert caught.value.message == message
    probe = script.requests[1]
    assert probe.method == "GET" and "/validation/validate_phone/" in probe.url.path
    assert probe.headers.get_list("authorization") == [f"Bearer {PARTNER}"]
    assert script.calls == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [(402, "The licence must be renewed"), (403, "No access to this location"), (403, None)],
)
async def test_access_denied(client, script, status, message):
    script.queue(fail(status, message))
    with pytest.raises(AccessDenied) as caught:
        await client.get_license(4523464, user_token=USER)
    assert caught.value.status == status
    assert caught.value.message == (message or "Altegio denied access")


async def test_not_found(client, script):
    script.queue(fail(404, "Location not found"))
    with pytest.raises(NotFound, match="Location not found") as caught:
        await client.get_license(4523464)
    assert caught.value.status == 404
    assert script.calls == 1  # a 4xx is an answer, not a failure: never retried


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ({"login": ["required"]}, {"login": ["required"]}),
        (["first", "second"], {"_": ["first", "second"]}),
        (None, {}),
    ],
)
@pytest.mark.parametrize("status", [400, 422])
async def test_invalid_input_keeps_field_errors(client, script, status, errors, expected):
    script.queue(fail(status, "Validation failed", errors))
    with pytest.raises(InvalidInput) as caught:
        await client.get_license(4523464)
    assert caught.value.errors == expected
    assert caught.value.message == "Validation failed" and caught.value.status == status


async def test_message_outside_meta_is_still_read(client, script):
    script.queue(httpx.Response(403, json={"message": "Forbidden by policy"}))
    with pytest.raises(AccessDenied, match="Forbidden by policy"):
        await client.get_license(4523464)


@pytest.mark.parametrize(
    ("status", "kind"), [(409, InvalidInput), (413, InvalidInput), (408, Unavailable)]
)
async def test_other_client_errors(client, script, status, kind):
    script.queue(fail(status, "nope"))
    with pytest.raises(kind):
        await client.get_license(4523464)


async def test_unknown_status_is_a_plain_altegio_error(client, script):
    script.queue(fail(418, None))
    with pytest.raises(AltegioError) as caught:
        await client.get_license(4523464)
    assert type(caught.value) is AltegioError
    assert caught.value.status == 418 and "418" in caught.value.message


@pytest.mark.parametrize(
    ("status", "body", "headers", "fragment"),
    [
        (
            200,
            b"<html><body>Welcome to nginx</body></html>",
            {"content-type": "text/html"},
            "HTML page",
        ),
        (200, b"", {}, "empty body"),
        (200, b"   ", {"content-type": "application/json"}, "empty body"),
        (200, b"{not json", {"content-type": "application/json"}, "not JSON"),
        (404, b"<!DOCTYPE html><title>404</title>", {"content-type": "text/html"}, "HTML"),
        (401, b"", {}, "empty body"),
        (403, b"<html>Cloudflare</html>", {"content-type": "text/html; charset=utf-8"}, "HTML"),
    ],
)
async def test_bodies_that_are_not_altegio_json_are_unavailable(
    client, script, status, body, headers, fragment
):
    script.queue(httpx.Response(status, content=body, headers=headers))
    with pytest.raises(Unavailable) as caught:
        await client.get_license(4523464)
    assert fragment in caught.value.message
    assert caught.value.status == status
    assert f"HTTP {status}" in caught.value.message


async def test_5xx_html_after_retries(make_client, script, sleeps):
    client = make_client(max_retries=2)
    script.queue(
        httpx.Response(
            502, content=b"<html>Bad gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(Unavailable) as caught:
        await client.get_license(4523464)
    assert caught.value.status == 502 and "502" in caught.value.message
    assert script.calls == 3 and len(sleeps) == 2


async def test_5xx_json_message_is_kept(make_client, script):
    client = make_client(max_retries=0)
    script.queue(fail(503, "Maintenance until 10:00"))
    with pytest.raises(Unavailable, match="Maintenance until 10:00"):
        await client.get_license(4523464)


async def test_redirect_is_reported_not_followed(client, script):
    script.queue(httpx.Response(301, headers={"location": "https://api.alteg.io/api/v1/x/+4420"}))
    with pytest.raises(Unavailable, match="redirected") as caught:
        await client.get_license(4523464)
    assert "https://api.alteg.io;" in caught.value.message and "+4420" not in caught.value.message
    assert script.calls == 1


# ------------------------------------------------------------------ retries


async def test_get_retries_5xx_then_succeeds(make_client, script, sleeps):
    client = make_client(max_retries=3, backoff_base=0.1, backoff_max=8)
    script.queue(fail(500), fail(503), ok(LICENSE))
    assert (await client.get_license(4523464)).id == 1
    assert script.calls == 3 and client.upstream_calls == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2  # full jitter under 0.1 * 2**n


async def test_backoff_is_capped_and_jittered(make_client):
    client = make_client(backoff_base=1, backoff_max=4)
    delays = [client._backoff(attempt) for attempt in range(10) for _ in range(50)]
    assert all(0 <= d <= 4 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


async def test_retries_are_bounded(make_client, script, sleeps):
    client = make_client(max_retries=2)
    script.queue(fail(500))
    with pytest.raises(Unavailable):
        await client.get_license(4523464)
    assert script.calls == 3


async def test_no_retries_when_disabled(make_client, script, sleeps):
    client = make_client(max_retries=0)
    script.queue(fail(500), ok(LICENSE))
    with pytest.raises(Unavailable):
        await client.get_license(4523464)
    assert script.calls == 1 and sleeps == []


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("garbage"),
    ],
)
async def test_get_retries_transport_failures(client, script, sleeps, exc):
    script.queue(exc, ok(LICENSE))
    assert (await client.get_license(4523464)).id == 1
    assert script.calls == 2 and len(sleeps) == 1


async def test_timeouts_that_never_end_become_unavailable(make_client, script):
    client = make_client(max_retries=1, timeout=3)
    script.queue(httpx.ReadTimeout("slow"))
    with pytest.raises(Unavailable, match="did not answer within 3 s") as caught:
        await client.get_license(4523464)
    assert caught.value.status is None and script.calls == 2


async def test_connection_failure_becomes_unavailable(make_client, script):
    client = make_client(max_retries=1)
    script.queue(httpx.ConnectError("refused"))
    with pytest.raises(Unavailable, match="could not be reached"):
        await client.get_license(4523464)


async def test_real_timeout_against_a_silent_server(make_client):
    # A real socket that accepts connections (the kernel's backlog) but never answers.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        client = make_client(
            max_retries=0, timeout=0.1, transport=None, base_url=f"http://127.0.0.1:{port}/api/v1"
        )
        started = time.monotonic()
        with pytest.raises(Unavailable, match="did not answer"):
            await client.get_license(1)
        assert time.monotonic() - started < 1.0
    finally:
        server.close()


async def test_429_honours_retry_after_seconds(client, script, sleeps):
    script.queue(fail(429, "Too many requests", headers={"Retry-After": "2"}), ok(LICENSE))
    await client.get_license(4523464)
    assert sleeps == [2.0] and script.calls == 2


async def test_429_retry_after_is_capped(make_client, script, sleeps):
    client = make_client(retry_after_cap=30)
    script.queue(fail(429, headers={"Retry-After": "3600"}), ok(LICENSE))
    await client.get_license(4523464)
    assert sleeps == [30.0]


async def test_429_retry_after_as_http_date(client, script, sleeps):
    when = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: retry at once
    script.queue(fail(429, headers={"Retry-After": when}), ok(LICENSE))
    await client.get_license(4523464)
    assert sleeps == [0.0]


async def test_429_without_retry_after_backs_off(make_client, script, sleeps):
    client = make_client(backoff_base=0.1)
    script.queue(fail(429), fail(429), ok(LICENSE))
    await client.get_license(4523464)
    assert len(sleeps) == 2 and all(0 <= s <= 0.2 for s in sleeps)


async def test_429_after_retries_is_rate_limited(make_client, script, sleeps):
    client = make_client(max_retries=2)
    script.queue(fail(429, "Slow down", headers={"Retry-After": "5"}))
    with pytest.raises(RateLimited) as caught:
        await client.get_license(4523464)
    assert caught.value.retry_after == 5.0 and caught.value.status == 429
    assert caught.value.message == "Slow down"
    assert script.calls == 3 and sleeps == [5.0, 5.0]


async def test_429_with_html_body_is_still_rate_limited(make_client, script):
    client = make_client(max_retries=0)
    script.queue(
        httpx.Response(429, content=b"<html>slow</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(RateLimited) as caught:
        await client.get_license(4523464)
    assert caught.value.retry_after is None


async def test_retry_after_pauses_the_shared_limiter(make_client, script, sleeps):
    class Recorder:
        def __init__(self):
            self.acquired = 0
            self.paused: list[float] = []

        async def acquire(self):
            self.acquired += 1

        async def pause(self, seconds):
            self.paused.append(seconds)

    limiter = Recorder()
    client = make_client(limiter=limiter)
    script.queue(fail(429, headers={"Retry-After": "1.5"}), fail(500), ok(LICENSE))
    await client.get_license(4523464)
    assert limiter.paused == [1.5]
    # Every attempt, retries included, waited for the limiter.
    assert limiter.acquired == script.calls == client.upstream_calls == 3


async def test_limiter_without_pause_is_fine(make_client, script):
    class Minimal:
        async def acquire(self):
            return None

    client = make_client(limiter=Minimal())
    script.queue(fail(429, headers={"Retry-After": "0"}), ok(LICENSE))
    assert (await client.get_license(4523464)).id == 1


# ------------------------------------------------------------------ POST: never doubled


async def test_post_is_not_retried_on_5xx(client, script, sleeps):
    script.queue(fail(500), ok({"image_binded": True}))
    with pytest.raises(Unavailable):
        await client.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=USER,
        )
    assert script.calls == 1 and sleeps == []


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("eof"),
    ],
)
async def test_post_is_not_retried_after_it_may_have_been_sent(client, script, exc):
    script.queue(exc, ok({"image_binded": True}))
    with pytest.raises(Unavailable):
        await client.upload_image(
            "service",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=USER,
        )
    assert script.calls == 1


@pytest.mark.parametrize(
    "first",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.PoolTimeout("full"),
        fail(429, headers={"Retry-After": "1"}),
    ],
)
async def test_post_is_retried_when_nothing_was_done(client, script, first):
    script.queue(first, ok({"image_binded": True, "image_group ": GROUP}))
    upload = await client.upload_image(
        "master",
        company_id=1,
        entity_id=17,
        content=b"x",
        filename="a.png",
        content_type="image/png",
        user_token=USER,
    )
    assert upload.image_binded is True and script.calls == 2


async def test_auth_is_not_retried_on_5xx(client, script):
    script.queue(fail(502), ok(USER_DATA))
    with pytest.raises(Unavailable):
        await client.authenticate("ann@example.com", "pw")
    assert script.calls == 1


# ------------------------------------------------------------------ POST /auth


async def test_authenticate(client, script):
    script.queue(ok(USER_DATA, status=201))
    user = await client.authenticate("ann@example.com", "hunter2")
    request = script.requests[0]
    assert request.method == "POST" and request.url.path == "/api/v1/auth"
    assert request.headers["authorization"] == f"Bearer {PARTNER}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(script.bodies[0]) == {"login": "ann@example.com", "password": "hunter2"}
    assert user.id == 77 and user.user_token.get_secret_value() == "fresh-user-token"
    assert user.name == "Ann"


async def test_authenticate_bare_object(client, script):
    script.queue(httpx.Response(200, json=USER_DATA))
    assert (await client.authenticate("+79161234567", "pw")).login == "ann@example.com"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_wrong_credentials(client, script, status):
    script.queue(fail(status, "Incorrect login or password", {"password": ["wrong"]}))
    with pytest.raises(InvalidCredentials) as caught:
        await client.authenticate("ann@example.com", "nope")
    assert caught.value.message == "Incorrect login or password"
    assert caught.value.status == status
    assert caught.value.errors == {"password": ["wrong"]}


async def test_wrong_credentials_saying_user(client, script):
    script.queue(fail(401, "User not found"))
    with pytest.raises(InvalidCredentials):
        await client.authenticate("ann@example.com", "nope")


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_refusing_the_partner_token(client, script, status):
    script.queue(fail(status, "Partner token is not valid"))
    with pytest.raises(AuthenticationError) as caught:
        await client.authenticate("ann@example.com", "pw")
    assert caught.value.token == "partner" and caught.value.status == status


async def test_auth_success_false_is_invalid_credentials(client, script):
    script.queue(
        httpx.Response(
            200, json={"success": False, "data": None, "meta": {"message": "Wrong password"}}
        )
    )
    with pytest.raises(InvalidCredentials, match="Wrong password"):
        await client.authenticate("ann", "pw")


@pytest.mark.parametrize("data", [{"id": 1}, {"id": 1, "user_token": ""}, None, []])
async def test_auth_without_a_token_is_unavailable(client, script, data):
    script.queue(ok(data, status=201))
    with pytest.raises(Unavailable, match="no user token"):
        await client.authenticate("ann", "pw")


async def test_auth_unreadable_user_does_not_echo_the_token(client, script):
    script.queue(ok({**USER_DATA, "id": "not-a-number"}))
    with pytest.raises(Unavailable) as caught:
        await client.authenticate("ann", "pw")
    assert "fresh-user-token" not in str(caught.value)


# ------------------------------------------------------------------ POST /images


@pytest.mark.parametrize(
    ("entity", "path", "field"),
    [
        ("master", "master", "master_id"),
        ("service", "service", "service_id"),
        ("team_member", "master", "master_id"),
        (" Master ", "master", "master_id"),
    ],
)
async def test_upload_image_multipart(client, script, entity, path, field):
    script.queue(ok({"image_binded": True, "image_group ": GROUP}, status=201))
    upload = await client.upload_image(
        entity,
        company_id=4523464,
        entity_id=17,
        content=b"\x89PNG-bytes",
        filename="portrait.png",
        content_type="image/png",
        user_token=USER,
    )
    assert isinstance(upload, ImageUpload)
    assert upload.image_group.images["basic"].path == "https://a.test/b.png"
    request, body = script.requests[0], script.bodies[0]
    assert request.method == "POST" and request.url.path == f"/api/v1/images/{path}"
    assert request.headers["authorization"] == f"Bearer {PARTNER}, User {USER}"
    assert request.headers["accept"] == "application/vnd.api.v2+json"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="image"; filename="portrait.png"' in body
    assert b"Content-Type: image/png" in body and b"\x89PNG-bytes" in body
    assert b'name="company_id"\r\n\r\n4523464' in body
    assert f'name="{field}"\r\n\r\n17'.encode() in body


async def test_upload_image_key_without_trailing_space(client, script):
    script.queue(ok({"image_binded": True, "image_group": GROUP}))
    upload = await client.upload_image(
        "master",
        company_id=1,
        entity_id=17,
        content=b"x",
        filename="a.jpg",
        content_type="image/jpeg",
        user_token=USER,
    )
    assert upload.image_group.id == 46


async def test_upload_image_refuses_unknown_entity_and_missing_token(client, script):
    with pytest.raises(ValueError):
        await client.upload_image(
            "client",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=USER,
        )
    with pytest.raises(AuthenticationError) as caught:
        await client.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=None,
        )
    assert caught.value.token == "user"
    assert script.calls == 0


async def test_upload_image_errors(client, script):
    script.queue(fail(403, "No rights to edit team members"))
    with pytest.raises(AccessDenied, match="No rights"):
        await client.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=USER,
        )


async def test_upload_image_without_a_description(client, script):
    script.queue(ok(None, status=201))
    with pytest.raises(Unavailable):
        await client.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="a.png",
            content_type="image/png",
            user_token=USER,
        )


# ------------------------------------------------------------------ caching


async def test_fifty_concurrent_identical_lookups_make_one_call(client, script):
    async def slow(request):
        await asyncio.sleep(0.02)
        return ok(LICENSE)

    script.queue(slow)
    results = await asyncio.gather(*(client.get_license(4523464) for _ in range(50)))
    assert len({id(r) for r in results}) == 1
    assert client.upstream_calls == 1 and script.calls == 1
    await client.get_license(4523464)
    assert client.upstream_calls == 1  # and the answer is now cached


async def test_fifty_concurrent_identical_phone_checks_make_one_call(client, script):
    script.queue(ok({"is_valid": True}))
    await asyncio.gather(*(client.validate_phone("+442079460958") for _ in range(50)))
    assert script.calls == 1


async def test_licence_cache_is_per_user_token(client, script):
    script.queue(ok(LICENSE))
    for token in (None, "token-a", "token-b", "token-a", None, SecretStr("token-b")):
        await client.get_license(4523464, user_token=token)
    assert script.calls == 3


async def test_one_users_denial_does_not_hide_anothers_access(client, script):
    script.queue(fail(403, "No access"), ok(LICENSE))
    with pytest.raises(AccessDenied):
        await client.get_license(4523464, user_token="token-a")
    assert (await client.get_license(4523464, user_token="token-b")).id == 1


async def test_not_found_is_cached_briefly(make_client, script):
    client = make_client(not_found_ttl=30)
    script.queue(fail(404, "No such location"), ok(LICENSE))
    for _ in range(3):
        with pytest.raises(NotFound, match="No such location"):
            await client.get_license(42)
    assert script.calls == 1


async def test_not_found_ttl_zero_disables_the_negative_cache(make_client, script):
    client = make_client(not_found_ttl=0)
    script.queue(fail(404), ok(LICENSE))
    with pytest.raises(NotFound):
        await client.get_license(42)
    assert (await client.get_license(42)).id == 1


@pytest.mark.parametrize(
    "first",
    [fail(500), fail(401, "User token expired"), fail(403), fail(422), fail(429)],
)
async def test_other_errors_are_not_cached(make_client, script, first):
    client = make_client(max_retries=0)
    script.queue(first, ok(LICENSE))  # a 401 is checked first: the check is answered ok too
    with pytest.raises(AltegioError):
        await client.get_license(42, user_token=USER)
    assert (await client.get_license(42, user_token=USER)).id == 1
    assert sum("/license/" in r.url.path for r in script.requests) == 2


async def test_license_ttl_zero_disables_the_cache(make_client, script):
    client = make_client(license_ttl=0)
    script.queue(ok(LICENSE))
    await client.get_license(1)
    await client.get_license(1)
    assert script.calls == 2


async def test_phone_cache_and_its_ttl(make_client, script):
    client = make_client()
    script.queue(ok({"is_valid": True}))
    await client.validate_phone("+442079460958")
    await client.validate_phone(" +442079460958 ")
    assert script.calls == 1
    uncached = make_client(phone_ttl=0)
    await uncached.validate_phone("+442079460958")
    await uncached.validate_phone("+442079460958")
    assert script.calls == 3


async def test_clear_cache(client, script):
    script.queue(ok(LICENSE))
    await client.get_license(1)
    client.clear_cache()
    await client.get_license(1)
    assert script.calls == 2


async def test_uploads_and_logins_are_never_cached(client, script):
    script.queue(ok({**USER_DATA}))
    await client.authenticate("ann", "pw")
    await client.authenticate("ann", "pw")
    assert script.calls == 2


# ------------------------------------------------------------------ pacing


async def test_every_call_in_the_client_shares_the_rate(make_client, script):
    client = make_client(rate_limit=40, license_ttl=0)
    script.queue(ok(LICENSE))
    started = time.monotonic()
    await asyncio.gather(*(client.get_license(i) for i in range(1, 9)))
    elapsed = time.monotonic() - started
    assert 7 / 40 - 0.01 <= elapsed < 7 / 40 + 0.25


async def test_rate_limit_none_does_not_pace(make_client, script):
    client = make_client(rate_limit=None, license_ttl=0)
    script.queue(ok(LICENSE))
    started = time.monotonic()
    await asyncio.gather(*(client.get_license(i) for i in range(1, 30)))
    assert time.monotonic() - started < 0.5


# ------------------------------------------------------------------ logging and lifecycle


async def test_log_lines_are_structured_and_keep_secrets_out(client, script, caplog):
    script.queue(ok({"is_valid": True}), ok(USER_DATA), fail(500), ok(LICENSE))
    with caplog.at_level(logging.DEBUG, logger="altegio.api"):
        await client.validate_phone("+442079460958")
        await client.authenticate("ann@example.com", "hunter2-password")
        await client.get_license(4523464, user_token=USER)
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    for secret in (PARTNER, USER, "hunter2-password", "fresh-user-token", "442079460958"):
        assert secret not in text
    first = caplog.records[0]
    assert first.name == "altegio.api"
    assert first.method == "GET" and first.status == 200
    assert first.path == "validation/validate_phone/+44********58"
    assert isinstance(first.latency_ms, float)
    retried = [r for r in caplog.records if getattr(r, "status", None) == 500]
    assert retried and retried[0].levelno == logging.WARNING
    assert retried[0].location_id == 4523464


async def test_failures_are_logged_without_the_url(make_client, script, caplog):
    client = make_client(max_retries=0)
    script.queue(httpx.ConnectError("failed for https://altegio.test/validate_phone/+4420"))
    with caplog.at_level(logging.WARNING, logger="altegio.api"), pytest.raises(Unavailable):
        await client.validate_phone("+442079460958")
    record = caplog.records[-1]
    assert record.status is None and "ConnectError" in record.getMessage()
    assert "+4420" not in record.getMessage().replace("+44*", "")


async def test_context_manager_closes(script):
    async with AltegioClient(BASE, PARTNER, transport=httpx.MockTransport(script)) as client:
        assert not client.closed
    assert client.closed
