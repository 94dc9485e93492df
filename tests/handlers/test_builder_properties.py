"""Every builder, fed long and odd text from people and from Altegio, gives what Slack accepts
(tests/fakes/block_limits.py) and never lets that text become a mention, a link or formatting,
in its blocks or in the top-level text that notifications show."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import (
    AccessDenied,
    AuthenticationError,
    Busy,
    ImageUpload,
    InvalidCredentials,
    InvalidInput,
    License,
    NotFound,
    Unavailable,
)
from handlers import blocks
from handlers.account import messages as account
from handlers.alerts import messages as alerts
from handlers.errors import UsageError, describe, reply_blocks, try_again
from handlers.i18n import LANGUAGES, Translator, translator
from handlers.images import messages as images
from handlers.images.caption import CaptionError, Target, parse_caption
from handlers.license import messages as license
from handlers.license.command import parse_location_ids
from handlers.phone import messages as phone
from handlers.phone.parsing import parse_phone
from handlers.retry import value_of
from handlers.store import LinkedAccount, Watch
from tests.fakes.block_limits import message_problems, view_problems

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ACTOR = "UACTOR0001"  # ids the builders are given to mention on purpose
CHANNEL = "CWATCH0001"
WEB_URL = "https://app.alteg.io"

# Slack markup, mrkdwn formatting, entities, scripts and emoji people and Altegio may send.
ODD = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S1>",
    "<@U1>",
    "<@U123|boss>",
    "<#C1>",
    "<#C1|general>",
    "<http://evil.example|click>",
    "<https://evil.example>",
    "<mailto:a@b.example|mail>",
    "&lt;!channel&gt;",
    "&lt;",
    "&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "*bold*",
    "_it_",
    "~st~",
    "`co`",
    "```",
    "\n",
    "\n> quoted",
    "> q",
    "\u202eRTL\u202c",
    "שלום",
    "مرحبا",
    "😀",
    "👩‍👩‍👧",
    "\u200b",
    "\u2060",
    "Ж",
    "%s",
    "%(n)s",
    "{time}",
    "|",
    "^",
    ":x:",
    " ",
]
FORMATTED = ("*bold*", "_it_", "~st~", "`co`")  # shown only with joiners inside
LINKS = re.compile(r"<[!@#]|<https?:|<mailto:", re.IGNORECASE)
# The markup builders put in on purpose: Slack dates, the acting user and the watched channel.
# Everything else that could open a mention or a link came from the input.
OURS = re.compile(
    r"<!date\^\d+\^[^<>|]*\|[^<>]*>"
    rf"|<@{ACTOR}>|<#{CHANNEL}>"
)

mixed = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=12)), max_size=25).map("".join)
# Long: a piece of markup repeated past every limit (a 3,000-character plan or reason).
long = st.builds(
    lambda piece, n: piece * n, st.sampled_from([*ODD, "x", "Ж&"]), st.integers(1, 1200)
)
texts = st.one_of(mixed, st.text(max_size=40), long)
languages = st.sampled_from(LANGUAGES)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mrkdwn(value: Any) -> list[str]:
    """Every mrkdwn text in a payload: what Slack parses for mentions, links and formatting."""
    if isinstance(value, list):
        return [text for item in value for text in _mrkdwn(item)]
    if not isinstance(value, dict):
        return []
    found = [value["text"]] if value.get("type") == "mrkdwn" else []
    return found + [text for key, item in value.items() if key != "text" for text in _mrkdwn(item)]


def _no_markup_from_input(text: str, ours: tuple[str, ...] = ()) -> None:
    rest = OURS.sub("", text)
    for markup in ours:
        rest = rest.replace(markup, "")
    assert not LINKS.search(rest), rest
    for formatted in FORMATTED:
        assert formatted not in rest, text
    assert not re.search(r"(^|\n)(>|&gt;)", text), text  # a line of input never opens a quote


def accepted(text: str, body: list[blocks.Block] | None = None, ours: tuple[str, ...] = ()) -> None:
    """Slack would take it, and nothing in it came from the input as markup (but `ours`)."""
    payload: dict[str, Any] = {"text": text}
    if body is not None:
        payload["blocks"] = body
    assert message_problems(payload) == []
    for mrkdwn in [text, *_mrkdwn(body)]:
        _no_markup_from_input(mrkdwn, ours)


def accepted_view(view: dict[str, Any], ours: tuple[str, ...] = ()) -> None:
    assert view_problems(view) == []
    for mrkdwn in _mrkdwn(view["blocks"]):
        _no_markup_from_input(mrkdwn, ours)


def licence(plan: str, options: list[str], location_id: int = 4523464, left: int = 5) -> License:
    return License(
        id=1,
        location_id=location_id,
        plan=plan,
        active=left >= 0,
        start_date=TODAY - timedelta(days=300),
        deactivation_date=TODAY + timedelta(days=left),
        staff_limit=12,
        options=[{"id": i, "title": title} for i, title in enumerate(options)],
    )


def errors(reason: str) -> list[Exception]:
    """Every kind of error whose sentence may carry Altegio's own words."""
    return [
        AccessDenied(reason, status=403),
        InvalidInput(reason, status=422),
        NotFound(reason, status=404),
        InvalidCredentials(reason),
        AuthenticationError(reason, token="user"),
        Busy(reason, retry_after=30),
        Unavailable(reason),
    ]


# -- /license -------------------------------------------------------------------------------------


@PROPERTY
@given(
    plan=texts,
    options=st.lists(texts, max_size=120),
    reason=texts,
    count=st.integers(1, 10),
    language=languages,
)
def test_license_cards(
    plan: str, options: list[str], reason: str, count: int, language: str
) -> None:
    t = translator(language)
    results: list[License | tuple[int, str]] = [
        licence(plan, options, 10**11 + i, left=i - 3) for i in range(count)
    ]
    results.append((98765432109, describe(AccessDenied(reason, status=403), t)))
    reply = license.license_message(results, TODAY, (30, 7, 1), t)
    accepted(reply.text, reply.blocks)
    # However long the plan and however many options, each card keeps its status and its count.
    assert reply.blocks is not None
    headlines = [b["text"]["text"] for b in reply.blocks if b["type"] == "section" and "text" in b]
    assert all(":large_green_circle:" in h or ":white_circle:" in h for h in headlines[:count])
    notes = [b["elements"][0]["text"] for b in reply.blocks if b["type"] == "context"]
    if len(options) > license.OPTIONS_SHOWN:
        extra = len(options) - license.OPTIONS_SHOWN
        count_note = t.ngettext(
            "%(options)s … +%(n)s more", "%(options)s … +%(n)s more", extra, options=""
        )
        assert all(n.endswith(count_note) for n in notes)


@PROPERTY
@given(word=texts, language=languages)
def test_license_refusals(word: str, language: str) -> None:
    t = translator(language)
    accepted(license.not_a_location_id(word, t))
    accepted(license.too_many_locations(10**6, 10, t))
    accepted(license.usage(t))


@pytest.mark.parametrize("language", LANGUAGES)
def test_hundreds_of_ids_get_one_short_sentence(language: str) -> None:
    t = translator(language)
    with pytest.raises(UsageError) as refused:
        parse_location_ids([str(i) for i in range(1, 501)], t)
    accepted(describe(refused.value, t), reply_blocks(refused.value, t))
    assert len(describe(refused.value, t)) < 200


# -- errors ---------------------------------------------------------------------------------------


@PROPERTY
@given(reason=texts, typed=texts, language=languages)
def test_error_replies(reason: str, typed: str, language: str) -> None:
    t = translator(language)
    retry = value_of("/license", typed)
    for error in [*errors(reason), UsageError(license.not_a_location_id(typed, t))]:
        accepted(describe(error, t), reply_blocks(error, t, retry))
    if retry is not None:
        accepted("", [try_again(retry, t)])


# -- alerts and watches ---------------------------------------------------------------------------


@PROPERTY
@given(
    plan=texts,
    kind=st.sampled_from(["days:30", "days:1", "expired", "inactive", "renewal", "snooze:days:7"]),
    left=st.integers(-400, 400),
    language=languages,
)
def test_alerts_and_their_clicks(plan: str, kind: str, left: int, language: str) -> None:
    t = translator(language)
    lic = licence(plan, [], left=left)
    body = alerts.alert_blocks(lic, kind, TODAY, t, web_url=WEB_URL)
    text = alerts.alert_text(lic, kind, TODAY, t)
    accepted(text, body)
    for status, acknowledged in (
        (alerts.snoozed_status(ACTOR, NOW + timedelta(days=7), NOW, t), False),
        (alerts.acknowledged_status(ACTOR, NOW, t), True),
    ):
        after = alerts.alert_after_click(
            body,
            status=status,
            location_id=lic.location_id,
            period=lic.deactivation_date,
            web_url=WEB_URL,
            acknowledged=acknowledged,
            t=t,
        )
        accepted(text, after)


@PROPERTY
@given(
    plans=st.lists(texts, min_size=1, max_size=50),
    problem=texts,
    more=st.integers(0, 5000),
    word=texts,
    language=languages,
)
def test_watch_replies(plans: list[str], problem: str, more: int, word: str, language: str) -> None:
    t = translator(language)
    rows = [
        alerts.WatchRow(
            Watch("T", CHANNEL, 10**11 + i, ACTOR, NOW, snoozed_until=NOW + timedelta(days=1)),
            licence=licence(plan, [], 10**11 + i, left=i - 10),
        )
        if i % 3
        else alerts.WatchRow(
            Watch("T", CHANNEL, 10**11 + i, ACTOR, NOW),
            problem=describe(InvalidInput(problem), t),
        )
        for i, plan in enumerate(plans)
    ]
    reply = alerts.watching_message(rows, TODAY, NOW, t, more=more)
    accepted(reply.text, reply.blocks)
    lic = licence(plans[0], [])
    accepted(alerts.watch_added(lic, TODAY, (90, 60, 30, 14, 7, 3, 1), t, added=True))
    accepted(alerts.watch_added(lic, TODAY, (30,), t, added=False))
    accepted(alerts.not_watching(4523464, describe(AccessDenied(problem), t), t))
    accepted(alerts.not_a_location_id("watch", word, t))
    accepted(alerts.paused_text(4523464, ACTOR, t))


# -- /altegio, the login form and the Home tab ----------------------------------------------------


def linked_account(name: str, login: str) -> LinkedAccount:
    return LinkedAccount("T", ACTOR, 987654321, name, login, NOW, user_token="secret")


@PROPERTY
@given(name=texts, login=texts, word=texts, metadata=st.text(max_size=200), language=languages)
def test_account_replies_and_the_login_form(
    name: str, login: str, word: str, metadata: str, language: str
) -> None:
    t = translator(language)
    who = linked_account(name, login)
    accepted(account.whoami_text(who, t), account.whoami(who, t=t))
    accepted(account.whoami_text(None, t), account.whoami(None, service_account=True, t=t))
    accepted(account.linked(who, t))
    accepted(account.logged_out(who, t))
    accepted(account.unknown_subcommand(word, t))
    accepted_view(account.login_modal(metadata, who, t))


@PROPERTY
@given(
    name=texts,
    problem=texts,
    channels=st.integers(0, 120),
    per_channel=st.integers(1, 40),
    language=languages,
)
def test_the_home_tab(
    name: str, problem: str, channels: int, per_channel: int, language: str
) -> None:
    t = translator(language)
    watches = [
        Watch(
            "T",
            f"C{c:08d}",
            10**11 + i,
            ACTOR,
            NOW,
            snoozed_until=NOW + timedelta(days=3) if i % 2 else None,
        )
        for c in range(channels)
        for i in range(per_channel)
    ]
    who = linked_account(name, name)
    links = tuple(f"<#{c}>" for c in {w.channel_id for w in watches})  # the store's, not input
    accepted_view(account.home_view(who, watches, now=NOW, t=t), links)
    accepted_view(account.home_view(None, [], now=NOW, t=t, service_account=True))
    accepted_view(account.home_view(None, watches, now=NOW, t=t, channels_unknown=True))
    accepted_view(
        account.home_view(None, [], now=NOW, t=t, problem=describe(Unavailable(problem), t))
    )


# -- photos ---------------------------------------------------------------------------------------


@PROPERTY
@given(
    name=texts,
    reason=texts,
    caption=texts,
    path=texts,
    entity=st.sampled_from(["master", "service"]),
    language=languages,
)
def test_photo_replies(
    name: str, reason: str, caption: str, path: str, entity: str, language: str
) -> None:
    t = translator(language)
    target = Target(entity, 17, 4523464)  # type: ignore[arg-type]
    try:
        parse_caption(caption)
    except CaptionError as problem:
        accepted(*images.usage_reply(problem.text(t), t))
    accepted(*images.login_prompt([name] * 5, t))
    accepted(*images.already_handled(name, t))
    result = ImageUpload.model_validate(
        {"image_binded": True, "image_group": {"id": 5, "images": {"basic": {"path": path}}}}
    )
    link = images.image_link(result, WEB_URL)  # Altegio's own address for the image
    ours = (f"<{link}|",) if link else ()
    account = LinkedAccount("T1", ACTOR, 42, reason, caption, datetime.now(UTC), "token")
    uploaded = images.uploaded(
        name, target, result, user_id=ACTOR, account=account, web_url=WEB_URL, t=t
    )
    accepted(*uploaded, ours)
    for error in errors(reason):
        failed = images.failed(name, target, describe(error, t), None, t)
        accepted(*failed)
        original = failed.blocks[0]["text"]["text"]  # what Slack gives back when Try again is hit
        accepted(*images.retried(ACTOR, original, t))
    said = blocks.escape(reason, 500)
    accepted(images.not_found_in_altegio(target, said, t))
    accepted(images.files_info_failed(reason, t))
    accepted(images.not_jpeg_or_png(reason, t))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["master", "location"])
def test_a_caption_naming_four_thousand_ids(language: str, kind: str) -> None:
    t = translator(language)
    named = " ".join(f"{kind} {i}" for i in range(1, 4001))
    caption = f"<!channel> *bold* {named} " + ("service 9" if kind == "location" else "location 5")
    with pytest.raises(CaptionError) as problem:
        parse_caption(caption)
    sentence = problem.value.text(t)
    assert t.format_number(4000) in sentence and len(sentence) < 400
    accepted(*images.usage_reply(sentence, t))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_builders_without_input_text(language: str) -> None:
    t = translator(language)
    for sentence in (
        license.usage(t),
        license.no_such_location(4523464, t),
        alerts.watch_usage(t),
        alerts.watch_needs_channel(t),
        alerts.no_such_location(t),
        alerts.stale_button(t),
        alerts.no_longer_watched(4523464, t),
        alerts.watching_takes_no_words(t),
        alerts.takes_one_location("unwatch", t),
        alerts.nothing_to_watch(4523464, t),
        alerts.when_alerted((90, 60, 30, 14, 7, 3, 1), t),
        alerts.watch_removed(4523464, t, removed=True),
        alerts.watch_removed(4523464, t, removed=False),
        account.usage(t),
        account.not_linked_logout(t),
        account.logged_out(None, t),
        account.login_form_expired(t),
        images.usage(t),
        images.file_gone(t),
        images.no_download_link(t),
        images.took_too_long(t),
        images.uploader_not_linked(t),
        images.button_expired(t),
        images.file_not_found(t),
        images.upload_failed(t),
        images.mislabelled("PNG", "JPEG", t),
        phone.usage(t),
    ):
        accepted(sentence, [blocks.section(sentence)])


# -- /phone ---------------------------------------------------------------------------------------


@PROPERTY
@given(typed=texts, language=languages, accepted_by_altegio=st.booleans())
def test_phone_replies(typed: str, language: str, accepted_by_altegio: bool) -> None:
    t: Translator = translator(language)
    accepted(phone.not_a_number(typed, t))
    for number in ("+44 20 7946 0958", "+800 1234 5678", "+7 912 345 67 89"):
        reply = phone.phone_message(parse_phone(number), accepted_by_altegio, t)
        accepted(reply.text, reply.blocks)
