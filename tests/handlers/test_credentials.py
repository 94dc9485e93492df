"""handlers/credentials.py on a real store: a write never gets the operator's service account,
and a read gets it only for a person Slack vouches for as a member of the workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import generate_key, open_store
from handlers.config import HandlerConfig
from handlers.credentials import READ, WRITE, credential_for
from handlers.errors import NotLinked, Outsider, Unidentified
from handlers.people import Person
from handlers.store import Store

TEAM = "T0TEST"
SERVICE = HandlerConfig(service_user_token="usr-service")
MEMBER = Person("U1", known=True, team_id=TEAM)
GUEST = Person("U1", known=True, is_guest=True, team_id=TEAM)
STRANGER = Person("U1", known=True, team_id="T0OTHER")
UNKNOWN = Person("U1", known=False)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", generate_key())
    yield opened
    await opened.close()


@pytest.mark.parametrize("person", [MEMBER, GUEST, STRANGER, UNKNOWN, None])
async def test_a_write_without_a_session_is_never_served_by_the_service_account(
    store: Store, person: Person | None
) -> None:
    with pytest.raises(NotLinked):
        await credential_for(store, SERVICE, TEAM, "U1", purpose=WRITE, person=person)
    with pytest.raises(NotLinked):
        await credential_for(
            store, SERVICE, TEAM, "U1", purpose=WRITE, person=person, required=False
        )


async def test_a_write_runs_on_the_writers_own_session_and_names_it(store: Store) -> None:
    await store.save_account(
        TEAM, "U1", altegio_user_id=7, name="Maria", login="m@example.com", user_token="usr-m"
    )
    for person in (MEMBER, GUEST, STRANGER, UNKNOWN):
        credential = await credential_for(store, SERVICE, TEAM, "U1", purpose=WRITE, person=person)
        assert (credential.token, credential.source, credential.shared) == (
            "usr-m",
            "session",
            False,
        )
        assert credential.account is not None and credential.account.name == "Maria"


async def test_a_member_reads_on_the_service_account(store: Store) -> None:
    credential = await credential_for(store, SERVICE, TEAM, "U1", purpose=READ, person=MEMBER)
    assert (credential.token, credential.shared) == ("usr-service", True)


@pytest.mark.parametrize(
    ("person", "refusal"),
    [(GUEST, Outsider), (STRANGER, Outsider), (UNKNOWN, Unidentified), (None, Unidentified)],
)
async def test_only_a_vouched_member_reads_on_the_service_account(
    store: Store, person: Person | None, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        await credential_for(
            store, SERVICE, TEAM, "U1", purpose=READ, person=person, required=False
        )


async def test_without_a_service_account_an_outsiders_read_goes_with_the_partner_token_alone(
    store: Store,
) -> None:
    credential = await credential_for(
        store, HandlerConfig(), TEAM, "U1", purpose=READ, person=GUEST, required=False
    )
    assert (credential.token, credential.source) == (None, "none")


def test_the_purpose_must_be_named() -> None:
    with pytest.raises(TypeError):
        credential_for(None, SERVICE, TEAM, "U1")  # type: ignore[arg-type,call-arg]
