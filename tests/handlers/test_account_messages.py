"""The account feature's Block Kit builders, checked against slack_sdk's own Block Kit limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from api import InvalidCredentials, RateLimited, Unavailable
from api.errors import PARTNER, AuthenticationError
from handlers.account import messages
from handlers.account.login import login_metadata, read_metadata
from handlers.blocks import LOGIN_ACTION
from handlers.i18n import ENGLISH, translator
from handlers.store import LinkedAccount, StoreUnavailable, Watch

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "usr-0123456789abcdef"


def account(name: str = "Maria Manager", login: str = "manager@example.com") -> LinkedAccount:
    return LinkedAccount("T1", "U1", 42, name, login, NOW - timedelta(days=3), TOKEN)


def watch(channel: str, location: int, snoozed_until: datetime | None = None) -> Watch:
    return Watch("T1", channel, location, "U2", NOW, snoozed_until=snoozed_until)


def valid_view(view: dict) -> dict:
    View(**view).validate_json()
    return view


def test_login_modal_is_valid_block_kit_and_holds_no_secret() -> None:
    view = valid_view(messages.login_modal(login_metadata("https://hooks.slack.com/x"), account()))
    assert view["callback_id"] == messages.LOGIN_CALLBACK
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["login", "password"]
    assert [b["element"]["action_id"] for b in inputs] == ["login", "password"]
    assert "initial_value" not in inputs[1]["element"]
    assert "replaces that link" in str(view["blocks"])
    assert TOKEN not in str(view)


def test_login_modal_without_a_current_link_says_nothing_about_one() -> None:
    assert "replaces" not in str(valid_view(messages.login_modal("{}")))


def test_metadata_round_trips_and_tolerates_garbage() -> None:
    assert read_metadata(login_metadata("https://hooks.slack.com/r", replace=True)) == (
        "https://hooks.slack.com/r",
        True,
    )
    assert read_metadata(login_metadata(None)) == (None, False)
    for raw in ("", None, "not json", "[1]", '{"response_url": 5}'):
        assert read_metadata(raw) == (None, False)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidCredentials("Incorrect login or password"), "did not accept that login"),
        (TimeoutError(), "Altegio is slow"),
        (Unavailable("down"), "not answering"),
        (RateLimited("slow down"), "busy"),
        (AuthenticationError("Partner token is invalid", token=PARTNER), "partner token"),
        (StoreUnavailable("db"), "database"),
        (RuntimeError("boom"), "Something went wrong"),
    ],
)
def test_login_refusals_become_one_sentence_on_the_password_field(
    error: BaseException, expected: str
) -> None:
    errors = messages.login_refusal(error)
    assert list(errors) == [messages.PASSWORD_BLOCK]
    assert expected in errors[messages.PASSWORD_BLOCK]


def test_missing_fields_name_each_empty_field() -> None:
    assert messages.missing_fields("a@b.c", "pw") == {}
    assert set(messages.missing_fields(" ", "pw")) == {"login"}
    assert set(messages.missing_fields("a@b.c", "  ")) == {"password"}


def test_whoami_linked_names_the_account_escaped_with_a_slack_date_and_logout() -> None:
    shown = messages.whoami(account(name="Ann <b> & Co"))
    for block in shown:
        Block.parse(block).validate_json()
    text = shown[0]["text"]["text"]
    assert "*Ann &lt;b&gt; &amp; Co*" in text and "manager@example.com" in text
    assert "Altegio user 42" in text
    assert f"<!date^{int((NOW - timedelta(days=3)).timestamp())}^" in text
    assert "|26 Feb 2025 12:00 UTC>" in text
    assert shown[1]["elements"][0]["action_id"] == messages.LOGOUT_ACTION
    assert TOKEN not in str(shown)


def test_whoami_not_linked_offers_the_login_button_and_mentions_a_service_account() -> None:
    plain = messages.whoami(None)
    assert plain[1]["elements"][0]["action_id"] == LOGIN_ACTION
    assert "service account" not in str(plain)
    shared = str(messages.whoami(None, service_account=True))
    assert "service account" in shared
    # The shared account looks things up for members; it never uploads, nor serves guests.
    assert "uploading a photo needs your own account" in shared and "guests" in shared


def test_a_nameless_account_is_shown_by_its_login() -> None:
    assert "*manager@example.com*" in messages.linked(account(name="  "))


def test_unknown_subcommand_is_named_safely() -> None:
    text = messages.unknown_subcommand("<!channel>`x`")
    assert "&lt;!channel&gt;'x'" in text and "<!channel>" not in text
    assert messages.USAGE in text


def test_home_groups_watches_by_channel_and_marks_current_snoozes() -> None:
    view = valid_view(
        messages.home_view(
            account(),
            [
                watch("C2", 77),
                watch("C1", 1001, snoozed_until=NOW + timedelta(days=1)),
                watch("C1", 4523464, snoozed_until=NOW - timedelta(days=1)),
            ],
            now=NOW,
            t=ENGLISH,
        )
    )
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    c1 = next(s for s in sections if s.startswith("<#C1>"))
    assert "`1001` (snoozed until <!date^" in c1
    assert "`4523464`" in c1 and "`4523464` (snoozed" not in c1
    assert any(s.startswith("<#C2>") and "`77`" in s for s in sections)
    ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [LOGIN_ACTION, messages.LOGOUT_ACTION]


def test_home_not_linked_has_only_the_login_button_and_an_empty_watch_list_explains() -> None:
    view = valid_view(messages.home_view(None, [], now=NOW, t=ENGLISH))
    ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [LOGIN_ACTION]
    assert "No channel you are in watches a licence yet" in str(view)


def test_home_stays_within_slacks_limits_for_many_watches() -> None:
    many = [watch(f"C{c:03d}", loc) for c in range(120) for loc in range(1, 60)]
    view = valid_view(messages.home_view(account(), many, now=NOW, t=ENGLISH))
    assert len(view["blocks"]) <= 100
    assert "and 80 more channels" in str(view)
    assert "and 34 more" in str(view)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])


def test_home_with_a_problem_says_it_instead_of_looking_unlinked() -> None:
    view = valid_view(
        messages.home_view(None, [], now=NOW, t=ENGLISH, problem="The database is down.")
    )
    assert "The database is down." in str(view)
    assert "not linked" not in str(view) and "No channel you are in watches" not in str(view)


def test_home_in_spanish_and_russian() -> None:
    es = valid_view(
        messages.home_view(
            account(),
            [watch("C1", 1001, snoozed_until=NOW + timedelta(days=1))],
            now=NOW,
            t=translator("es"),
        )
    )
    shown = str(es)
    assert "Tu cuenta de Altegio" in shown and "Licencias vigiladas" in shown
    assert "Vinculado a Altegio como" in shown and "pospuesto hasta" in shown
    assert "Sucursales: `1001`" in shown
    many = [watch(f"C{c:03d}", 1) for c in range(45)]
    ru = str(valid_view(messages.home_view(None, many, now=NOW, t=translator("ru"))))
    assert "Ваш аккаунт Altegio" in ru and "…и ещё 5 каналов." in ru
    empty = str(valid_view(messages.home_view(None, [], now=NOW, t=translator("ru"))))
    assert "Пока ни один из ваших каналов не следит за лицензией" in empty
