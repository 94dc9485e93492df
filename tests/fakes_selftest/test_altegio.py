"""The fake Altegio over real HTTP: shapes, tokens, recording and every kind of fault."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import httpx
import pytest

from tests.fakes import PARTNER_TOKEN, FakeAltegio

PARTNER = {"Authorization": f"Bearer {PARTNER_TOKEN}"}


def as_user(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PARTNER_TOKEN}, User {token}"}


@pytest.fixture
async def http(fake_altegio: FakeAltegio):
    async with httpx.AsyncClient(base_url=fake_altegio.base_url, headers=PARTNER) as client:
        yield client


async def test_licence_in_the_documented_shape(fake_altegio, http):
    fake_altegio.add_license(
        4523464, plan="Business", days_left=5, staff_limit=3, options=[{"id": 7, "title": "SMS"}]
    )
    response = await http.get("/license/4523464")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["meta"] == []
    data = body["data"]
    assert data["salon_id"] == 4523464 and data["name"] == "Business" and data["active"] == 1
    lapse = date.today() + timedelta(days=5)
    assert data["deactivation_date"] == lapse.strftime("%d.%m.%Y")
    assert data["staff_limit"] == 3 and data["options"] == [{"id": 7, "title": "SMS"}]
    assert data["is_paid_rights_model"] is True


async def test_licence_variants(fake_altegio, http):
    fake_altegio.add_license(1, is_paid_rights_model=None, extra={"start_date": None})
    fake_altegio.envelope = False
    fake_altegio.active_as_bool = True
    data = (await http.get("/license/1")).json()
    assert data["active"] is True and "is_paid_rights_model" not in data
    assert data["start_date"] is None and "success" not in data


async def test_unknown_location_and_tokens(fake_altegio, http):
    fake_altegio.add_license(1)
    user = fake_altegio.add_user()
    missing = await http.get("/license/2")
    assert missing.status_code == 404 and missing.json()["meta"]["message"]
    bad_partner = await http.get("/license/1", headers={"Authorization": "Bearer nope"})
    assert bad_partner.status_code == 401
    assert "partner" in bad_partner.json()["meta"]["message"].lower()
    unknown_user = await http.get("/license/1", headers=as_user("usr-unknown"))
    assert unknown_user.status_code == 401
    assert (await http.get("/license/1", headers=as_user(user.user_token))).status_code == 200
    fake_altegio.deny(1, user_token=user.user_token)
    assert (await http.get("/license/1", headers=as_user(user.user_token))).status_code == 403
    assert (await http.get("/license/1")).status_code == 200  # the denial was for that user only
    old = user.user_token
    fake_altegio.change_password(user.login, "new-secret")
    assert (await http.get("/license/1", headers=as_user(old))).status_code == 401


async def test_phone_validation_records_the_encoded_path(fake_altegio, http):
    valid = await http.get("/validation/validate_phone/%2B442079460958")
    assert valid.json()["data"] == {"is_valid": True}
    request = fake_altegio.requests("/validate_phone/")[-1]
    assert request.raw_path.endswith("/%2B442079460958")
    assert request.path.endswith("/+442079460958")
    assert (await http.get("/validation/validate_phone/12")).json()["data"]["is_valid"] is False
    fake_altegio.invalid_phone_status = 422
    refused = await http.get("/validation/validate_phone/12")
    assert refused.status_code == 422 and refused.json()["success"] is False


async def test_auth_returns_201_and_refuses_wrong_passwords(fake_altegio, http):
    user = fake_altegio.add_user("anna@example.com", "pw", name="Anna", phone="+447700900123")
    ok = await http.post("/auth", json={"login": "anna@example.com", "password": "pw"})
    assert ok.status_code == 201
    assert ok.json()["data"]["user_token"] == user.user_token
    by_phone = await http.post("/auth", json={"login": "447700900123", "password": "pw"})
    assert by_phone.status_code == 201
    wrong = await http.post("/auth", json={"login": "anna@example.com", "password": "x"})
    assert wrong.status_code == 401 and wrong.json()["meta"]["message"]
    assert fake_altegio.requests("/auth")[0].json == {"login": "anna@example.com", "password": "pw"}


async def test_image_upload_is_recorded_byte_for_byte(fake_altegio, http):
    user = fake_altegio.add_user()
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
    response = await http.post(
        "/images/master",
        headers=as_user(user.user_token),
        data={"company_id": "4523464", "master_id": "17"},
        files={"image": ("portrait.jpg", jpeg, "image/jpeg")},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["image_binded"] is True
    group = data["image_group "]  # the trailing space, as in Altegio's examples
    assert group["entity_id"] == 17 and group["images"]["basic"]["image_group_id"] == group["id"]
    request = fake_altegio.requests("/images/master")[0]
    assert request.form == {"company_id": "4523464", "master_id": "17"}
    assert request.files["image"].content == jpeg
    assert request.files["image"].content_type == "image/jpeg"
    assert request.user_token == user.user_token
    stored = fake_altegio.uploads[0]
    assert (stored.company_id, stored.entity_id, stored.content) == (4523464, 17, jpeg)


async def test_image_upload_refusals(fake_altegio, http):
    user = fake_altegio.add_user()
    fields = {"company_id": "1", "service_id": "9"}
    no_user = await http.post(
        "/images/service", data=fields, files={"image": ("a.png", b"\x89PNG", "image/png")}
    )
    assert no_user.status_code == 401
    pdf = await http.post(
        "/images/service",
        data=fields,
        headers=as_user(user.user_token),
        files={"image": ("a.pdf", b"%PDF", "application/pdf")},
    )
    assert pdf.status_code == 422 and "image" in pdf.json()["meta"]["errors"]
    fake_altegio.image_group_key = "image_group"
    ok = await http.post(
        "/images/service",
        data=fields,
        headers=as_user(user.user_token),
        files={"image": ("a.png", b"\x89PNG", "image/png")},
    )
    assert "image_group" in ok.json()["data"]


async def test_fails_twice_then_recovers(fake_altegio, http):
    fake_altegio.add_license(1)
    fake_altegio.fail("/license/", status=500, times=2)
    statuses = [(await http.get("/license/1")).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert [r.status for r in fake_altegio.requests("/license/")] == statuses


async def test_rate_limit_answers_and_junk_bodies(fake_altegio, http):
    fake_altegio.add_license(1)
    fake_altegio.fail("/license/", status=429, retry_after=2)
    fake_altegio.fail("/license/", status=429)
    fake_altegio.fail("/license/", status=502, body="html")
    fake_altegio.fail("/license/", status=200, body="empty")
    first, second = await http.get("/license/1"), await http.get("/license/1")
    assert first.headers["Retry-After"] == "2" and "Retry-After" not in second.headers
    html = await http.get("/license/1")
    assert html.status_code == 502 and html.text.startswith("<html>")
    assert (await http.get("/license/1")).content == b""
    assert (await http.get("/license/1")).status_code == 200


async def test_dropped_connection_and_always_failing(fake_altegio, http):
    fake_altegio.add_license(1)
    fake_altegio.drop("/license/")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get("/license/1")
    assert fake_altegio.requests()[-1].dropped
    fake_altegio.fail_always(status=503)
    assert {(await http.get("/license/1")).status_code for _ in range(3)} == {503}
    fake_altegio.reset()
    fake_altegio.add_license(1)
    assert (await http.get("/license/1")).status_code == 200


async def test_latency_concurrency_and_rate_figures(fake_altegio, http):
    fake_altegio.add_license(1)
    fake_altegio.latency = 0.05
    started = time.monotonic()
    responses = await asyncio.gather(*(http.get("/license/1") for _ in range(8)))
    assert all(r.status_code == 200 for r in responses)
    assert time.monotonic() - started < 0.5  # concurrent, not serialised
    assert fake_altegio.peak_concurrency >= 2
    assert fake_altegio.max_rate(1.0) == 8
    fake_altegio.delay(0.2, "/license/", times=1)
    started = time.monotonic()
    await http.get("/license/1")
    assert time.monotonic() - started >= 0.25


async def test_enforced_rate_limit(fake_altegio, http):
    fake_altegio.add_license(1)
    fake_altegio.limit_rate(per_second=3, per_minute=None, retry_after=1)
    statuses = [(await http.get("/license/1")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_private_instance_without_an_event_loop():
    with FakeAltegio(partner_token="other") as fake:
        fake.add_license(5)
        response = httpx.get(
            f"{fake.base_url}/license/5", headers={"Authorization": "Bearer other"}
        )
        assert response.status_code == 200
        assert fake.wait_for_requests(1, path="/license/5")[0].partner_token == "other"
