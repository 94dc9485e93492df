"""AltegioClient over real HTTP against the fake Altegio: what goes over the wire, and pacing."""

from __future__ import annotations

import asyncio
import gc
import sys
import uuid

import pytest

from api import (
    AccessDenied,
    AltegioClient,
    AuthenticationError,
    InvalidCredentials,
    NotFound,
    RateConfig,
    RedisRateLimiter,
    Retries,
    Unavailable,
)
from tests.fakes import PARTNER_TOKEN, FakeAltegio


@pytest.fixture
async def altegio(fake_altegio: FakeAltegio):
    client = AltegioClient(
        fake_altegio.base_url,
        PARTNER_TOKEN,
        rate=None,
        retries=Retries(backoff_base=0.01),
        timeout=5,
    )
    yield client
    await client.aclose()


@pytest.mark.parametrize("envelope", [True, False])
@pytest.mark.parametrize("active_as_bool", [True, False])
@pytest.mark.parametrize("date_format", ["%d.%m.%Y", "%Y-%m-%d"])
async def test_license_variants(fake_altegio, altegio, envelope, active_as_bool, date_format):
    fake_altegio.envelope = envelope
    fake_altegio.active_as_bool = active_as_bool
    fake_altegio.date_format = date_format
    stored = fake_altegio.add_license(
        4523464, plan="Business", staff_limit=12, options=[{"id": 3, "title": "Loyalty"}]
    )
    lic = await altegio.get_license(4523464)
    assert (lic.location_id, lic.plan, lic.active, lic.staff_limit) == (
        4523464,
        "Business",
        True,
        12,
    )
    assert lic.deactivation_date == stored.deactivation_date
    assert [o.title for o in lic.options] == ["Loyalty"]


async def test_license_with_missing_optional_fields(fake_altegio, altegio):
    fake_altegio.add_license(7, omit=("is_paid_rights_model", "options"))
    lic = await altegio.get_license(7)
    assert lic.options == [] and lic.is_paid_rights_model is None


async def test_unknown_location_and_denial(fake_altegio, altegio):
    fake_altegio.add_license(8)
    fake_altegio.deny(8, user_token="usr-x")
    with pytest.raises(NotFound):
        await altegio.get_license(9)
    with pytest.raises(AuthenticationError) as caught:
        await altegio.get_license(8, user_token="usr-x")  # not a known user at all
    assert caught.value.token == "user"
    user = fake_altegio.add_user(user_token="usr-x")
    with pytest.raises(AccessDenied):
        await altegio.get_license(8, user_token=user.user_token)


async def test_wrong_partner_token(fake_altegio):
    fake_altegio.add_license(8)
    async with AltegioClient(fake_altegio.base_url, "wrong", rate=None) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_license(8, user_token="anything")
    assert caught.value.token == "partner"


async def test_headers_on_the_wire(fake_altegio, altegio):
    fake_altegio.add_license(8)
    user = fake_altegio.add_user()
    await altegio.get_license(8, user_token=user.user_token)
    altegio.clear_cache()
    await altegio.get_license(8, user_token=user.user_token)
    for record in fake_altegio.requests("/license/8"):
        assert record.headers["accept"] == "application/vnd.api.v2+json"
        assert [v for k, v in record.raw_headers if k.lower() == "authorization"] == [
            f"Bearer {PARTNER_TOKEN}, User {user.user_token}"
        ]


@pytest.mark.parametrize(
    ("phone", "raw", "valid"),
    [
        ("+442079460958", "/api/v1/validation/validate_phone/%2B442079460958", True),
        ("442079460958", "/api/v1/validation/validate_phone/442079460958", True),
        ("+44 20 7946 0958", "/api/v1/validation/validate_phone/%2B44%2020%207946%200958", False),
    ],
)
async def test_phone_encoding_reaches_the_server_intact(fake_altegio, altegio, phone, raw, valid):
    result = await altegio.validate_phone(phone)
    record = fake_altegio.requests("validate_phone")[0]
    assert record.raw_path == raw
    assert record.path.endswith("/" + phone)
    assert result.is_valid is valid


async def test_phone_refused_with_422(fake_altegio, altegio):
    fake_altegio.invalid_phone_status = 422
    result = await altegio.validate_phone("12")
    assert result.is_valid is False and result.message == "Phone number is invalid"


@pytest.mark.parametrize("auth_status", [200, 201])
async def test_login(fake_altegio, altegio, auth_status):
    fake_altegio.auth_status = auth_status
    user = fake_altegio.add_user("maria@example.com", "s3cret", name="Maria")
    linked = await altegio.authenticate("maria@example.com", "s3cret")
    assert linked.id == user.id and linked.name == "Maria"
    assert linked.user_token.get_secret_value() == user.user_token
    record = fake_altegio.requests("/auth")[0]
    assert record.json == {"login": "maria@example.com", "password": "s3cret"}
    assert record.user_token is None and record.partner_token == PARTNER_TOKEN


@pytest.mark.parametrize("status", [401, 403, 422])
async def test_wrong_password(fake_altegio, altegio, status):
    fake_altegio.auth_failure_status = status
    fake_altegio.add_user("maria@example.com", "s3cret")
    with pytest.raises(InvalidCredentials, match="Incorrect login or password"):
        await altegio.authenticate("maria@example.com", "nope")


async def test_stale_user_token_after_password_change(fake_altegio, altegio):
    fake_altegio.add_license(8)
    user = fake_altegio.add_user("maria@example.com", "s3cret")
    old = user.user_token
    fake_altegio.change_password("maria@example.com", "new")
    with pytest.raises(AuthenticationError) as caught:
        await altegio.get_license(8, user_token=old)
    assert caught.value.token == "user"


@pytest.mark.parametrize(
    ("entity", "key"), [("master", "image_group "), ("service", "image_group")]
)
async def test_upload(fake_altegio, altegio, entity, key):
    fake_altegio.image_group_key = key
    user = fake_altegio.add_user()
    upload = await altegio.upload_image(
        entity,
        company_id=4523464,
        entity_id=17,
        content=b"\xff\xd8jpeg",
        filename="p.jpg",
        content_type="image/jpeg",
        user_token=user.user_token,
    )
    stored = fake_altegio.uploads[0]
    assert (stored.entity, stored.company_id, stored.entity_id) == (entity, 4523464, 17)
    assert stored.content == b"\xff\xd8jpeg" and stored.filename == "p.jpg"
    assert upload.image_binded and upload.image_group.id == stored.group_id
    assert set(upload.image_group.images) == {"basic", "thumbnail"}


async def test_an_uploaded_image_is_let_go_when_the_upload_is_over(fake_altegio, altegio):
    """Nothing left behind holds the photo: httpx ties each response to its stream in a
    reference cycle, freed only by the garbage collector's next full pass, and a photo held by
    one lived on long after its slot was free (200 shares at once peaked at over 1 GB)."""
    user = fake_altegio.add_user()
    content = b"\xff\xd8\xff" + bytes(1024 * 1024)
    before = sys.getrefcount(content)
    gc.disable()  # what happens between full passes
    try:
        await altegio.upload_image(
            "master",
            company_id=4523464,
            entity_id=17,
            content=content,
            filename="p.jpg",
            content_type="image/jpeg",
            user_token=user.user_token,
        )
        assert sys.getrefcount(content) == before
    finally:
        gc.enable()
    assert fake_altegio.uploads[0].content == content


async def test_upload_is_sent_once_when_altegio_fails(fake_altegio, altegio):
    user = fake_altegio.add_user()
    fake_altegio.fail("/images", status=500)
    with pytest.raises(Unavailable):
        await altegio.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="p.png",
            content_type="image/png",
            user_token=user.user_token,
        )
    assert len(fake_altegio.requests("/images")) == 1


async def test_dropped_connection_upload_is_not_repeated(fake_altegio, altegio):
    user = fake_altegio.add_user()
    fake_altegio.drop("/images")
    with pytest.raises(Unavailable):
        await altegio.upload_image(
            "master",
            company_id=1,
            entity_id=2,
            content=b"x",
            filename="p.png",
            content_type="image/png",
            user_token=user.user_token,
        )
    assert len(fake_altegio.requests("/images")) == 1


async def test_failing_twice_then_recovering(fake_altegio, altegio):
    fake_altegio.add_license(8)
    fake_altegio.fail("/license", status=503, times=1)
    fake_altegio.fail("/license", status=502, times=1, body="html")
    assert (await altegio.get_license(8)).location_id == 8
    assert [r.status for r in fake_altegio.requests("/license")] == [503, 502, 200]


async def test_dropped_get_is_retried(fake_altegio, altegio):
    fake_altegio.add_license(8)
    fake_altegio.drop("/license")
    assert (await altegio.get_license(8)).location_id == 8


@pytest.mark.parametrize("body", ["html", "empty", "garbage", "truncated"])
async def test_junk_bodies(fake_altegio, altegio, body):
    fake_altegio.fail("/license", status=200, body=body)
    with pytest.raises(Unavailable):
        await altegio.get_license(8)


async def test_always_failing_then_the_next_call_still_works(fake_altegio, altegio):
    fake_altegio.add_license(8)
    rule = fake_altegio.fail_always("/license", status=500)
    with pytest.raises(Unavailable):
        await altegio.get_license(8)
    assert len(fake_altegio.requests("/license")) == altegio.retries.max_retries + 1
    fake_altegio.rules.clear()
    assert rule.hits == altegio.retries.max_retries + 1
    assert (await altegio.get_license(8)).id


async def test_slow_altegio_times_out(fake_altegio):
    fake_altegio.add_license(8)
    fake_altegio.delay(1.0, "/license")
    async with AltegioClient(
        fake_altegio.base_url, PARTNER_TOKEN, rate=None, timeout=0.2, retries=Retries(max_retries=0)
    ) as client:
        with pytest.raises(Unavailable, match="did not answer"):
            await client.get_license(8)


async def test_fifty_concurrent_lookups_one_request(fake_altegio, altegio):
    fake_altegio.add_license(4523464)
    fake_altegio.latency = 0.05
    await asyncio.gather(*(altegio.get_license(4523464) for _ in range(50)))
    assert len(fake_altegio.requests("/license")) == 1


async def test_paced_client_meets_a_sliding_window_limit(fake_altegio):
    for location in range(1, 31):
        fake_altegio.add_license(location)
    fake_altegio.limit_rate(per_second=50, per_minute=None)
    async with AltegioClient(fake_altegio.base_url, PARTNER_TOKEN, rate=RateConfig(50)) as client:
        await asyncio.gather(*(client.get_license(i) for i in range(1, 31)))
    statuses = [r.status for r in fake_altegio.requests("/license")]
    assert statuses.count(429) == 0 and len(statuses) == 30


async def test_two_clients_sharing_redis_stay_under_the_limit(fake_altegio, redis_url):
    for location in range(1, 41):
        fake_altegio.add_license(location)
    fake_altegio.limit_rate(per_second=40, per_minute=None)
    key = f"altegio-bot-test:{uuid.uuid4().hex}"
    limiters = [RedisRateLimiter(redis_url, 40, key=key) for _ in range(2)]
    clients = [AltegioClient(fake_altegio.base_url, PARTNER_TOKEN, limiter=lim) for lim in limiters]
    try:
        await asyncio.gather(*(clients[i % 2].get_license(i) for i in range(1, 41)))
    finally:
        for client in clients:
            await client.aclose()
        await limiters[0].reset()
        for limiter in limiters:
            await limiter.aclose()
    statuses = [r.status for r in fake_altegio.requests("/license")]
    assert statuses.count(429) == 0 and len(statuses) == 40
    assert fake_altegio.max_rate(1.0) <= 40
