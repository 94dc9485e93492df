"""Mixed load on the served bot: /license, /phone, alert buttons and photo shares, 32 at a time.

    python bench/load.py [--count 2000] [--concurrency 32] [--kinds /license,/phone,button,photo]
                         [--latency 0.05] [--altegio-rate 100] [--database-url postgresql://…]

Starts the fake Altegio and fake Slack (tests/fakes), then `altegio-bot serve` and a bare Bolt
AsyncApp that only acks the same mix (bench/bare_bolt.py --mix), as real subprocesses on 127.0.0.1.
Before measuring, through the served bot itself: 64 Slack users link their Altegio accounts
with the login form's submission, channels watch soon-lapsing locations with `/license watch`
and one `altegio-bot alerts` sweep posts an alert to each of them, and a few licences are looked
up so that they are cached. Then a warm-up and `count` pre-signed requests go to each app, a
quarter of each kind, shuffled, every one from its own user:

- `/license <id>`: half for cached locations, half for locations nobody asked for yet (each
  asked for by several users during the run);
- `/phone <number>`: numbers from five countries typed five ways, a quarter repeated (cached),
  some of them refused by Altegio;
- a click on Snooze 1 day, Snooze 7 days or Acknowledge, each on an alert of its own;
- a photo shared in a channel by a linked user (a message `file_share` event), with a JPEG of
  its own and the caption `master N location M`.

Printed: acks slower than Slack's 3 seconds, ack latency per kind, whether every user got
exactly their own answer (the licence of the location they asked for, their own number
normalised with Altegio's verdict, the alert they clicked updated with their name, one upload of
the right bytes for the right ids on the sharer's own Altegio account and one reply in the
share's thread), how long answers took, Altegio calls, peak memory and CPU time of both server
processes. Exits with status 1 if any ack was slow or failed or any answer was wrong or missing.
Stops by itself.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    LoadResult,
    Served,
    Signed,
    clean_env,
    ms,
    run_load,
    serve_bare_bolt,
    serve_bot,
)
from bench.sweep import Databases
from bot.storage import generate_key
from handlers.account.messages import LOGIN_BLOCK, LOGIN_CALLBACK, PASSWORD_BLOCK
from handlers.alerts.messages import ACKNOWLEDGE, SNOOZE_1D, SNOOZE_7D
from tests.fakes import FakeAltegio, FakeSlack
from tests.fakes.fixtures import settings_for
from tests.fakes.signing import (
    block_actions,
    button,
    event_callback,
    message_event,
    slash_command,
    text_inputs,
    view_submission,
)

ACK_LIMIT = 3.0  # seconds: Slack tells the user the app failed when an ack takes longer
KINDS = ("/license", "/phone", "button", "photo")
SETTLE = 1.0  # seconds to keep listening after the last answer, for anything doubled

PLANS = ("Start", "Business", "Network")
WARM_LOCATIONS = range(4_100_001, 4_100_011)  # looked up before the measured run
FIRST_COLD_LOCATION = 4_200_001  # first asked for during a run
COLD_SHARE = 12  # one new location per this many /license commands
ALERT_LOCATIONS = range(4_300_001, 4_300_006)  # lapse in 5 days: every watch gets an alert
PHOTO_LOCATIONS = range(4_400_001, 4_400_006)
SHARERS = 64  # linked users who share the photos
PHOTO_CHANNELS = 8

PHONE_FORMATS = (  # (typed, digits of the national part), e.g. "+44 20 7946 0123"
    "+44 20 7946 {:04d}",
    "+1 (212) 555-{:04d}",
    "0049 30 {:08d}",
    "7 912 {:07d}",
    "+33 6 12 {:06d}",
)
REFUSED_EVERY = 6  # Altegio refuses every 6th new number
REPEAT_EVERY = 4  # every 4th /phone repeats a number typed earlier in the same run

JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
JPEG_END = b"\xff\xd9"


# -- what each request must be answered with ----------------------------------------------------


class Answers:
    """What the fakes received so far, indexed the way the checks look answers up."""

    def __init__(self, slack: FakeSlack, altegio: FakeAltegio) -> None:
        self.responses = _group(slack.requests("/response/"), lambda r: r.path)
        # Calls Slack accepted: a refused attempt that the bot then retried is no second answer.
        self.updates = _group(slack.calls("chat.update", ok=True), lambda c: _at(c.args))
        self.replies = _group(
            slack.calls("chat.postMessage", ok=True),
            lambda c: (c.args.get("channel"), c.args.get("thread_ts")),
        )
        self.reactions = _group(
            slack.calls("reactions.add", ok=True),
            lambda c: (c.args.get("channel"), c.args.get("timestamp")),
        )
        self.uploads = _group(altegio.uploads, lambda u: u.filename)


def _at(args: dict[str, Any]) -> tuple[Any, Any]:
    return args.get("channel"), args.get("ts")


def _group(items: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return grouped


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class CommandAnswer:
    """/license and /phone: one private reply to the command's own response_url."""

    path: str
    must_have: tuple[str, ...]
    location: int | None = None  # a licence answer names this location and no other

    def answered_at(self, answers: Answers) -> float | None:
        posts = answers.responses.get(self.path)
        return posts[0].started if posts else None

    def problem(self, answers: Answers) -> str | None:
        posts = answers.responses.get(self.path, [])
        if len(posts) != 1:
            return f"{len(posts)} replies"
        reply = posts[0].json or {}
        text = _text(reply)
        missing = [s for s in self.must_have if s not in text]
        if missing:
            return f"no {missing[0]!r} in {text[:300]}"
        if reply.get("response_type") != "ephemeral":
            return "the reply is not private"
        if self.location is not None:
            named = set(re.findall(r"Location (\d+)", text))
            if named != {str(self.location)}:
                return f"names locations {sorted(named)}"
        return None


@dataclass
class ClickAnswer:
    """A Snooze or Acknowledge click: that alert, and only it, updated with the clicker's name."""

    channel: str
    ts: str
    status: str  # e.g. "Snoozed by <@U0CLICK00001>"
    path: str  # the click's response_url: used only for an error

    def answered_at(self, answers: Answers) -> float | None:
        updates = answers.updates.get((self.channel, self.ts))
        return updates[0].record.started if updates else None

    def problem(self, answers: Answers) -> str | None:
        updates = answers.updates.get((self.channel, self.ts), [])
        errors = answers.responses.get(self.path, [])
        if errors:
            return f"answered privately: {_text(errors[0].json)[:300]}"
        if len(updates) != 1:
            return f"{len(updates)} updates of the alert"
        if self.status not in _text(updates[0].args.get("blocks")):
            return f"the alert does not say {self.status!r}"
        return None


@dataclass
class PhotoAnswer:
    """A photo share: one upload of its bytes on the sharer's account, one reply in its thread."""

    channel: str
    ts: str
    filename: str
    content: bytes
    entity_id: int
    location: int
    user_token: str

    def answered_at(self, answers: Answers) -> float | None:
        replies = answers.replies.get((self.channel, self.ts))
        if not replies or self.filename not in answers.uploads:
            return None
        if (self.channel, self.ts) not in answers.reactions:
            return None  # the last thing the bot does for a share
        return replies[0].record.started

    def problem(self, answers: Answers) -> str | None:
        uploads = answers.uploads.get(self.filename, [])
        replies = answers.replies.get((self.channel, self.ts), [])
        if len(uploads) != 1:
            return f"{len(uploads)} uploads"
        upload = uploads[0]
        got = (upload.entity, upload.entity_id, upload.company_id)
        if got != ("master", self.entity_id, self.location):
            return f"uploaded as {got}"
        if upload.content != self.content:
            return "uploaded other bytes"
        if upload.user_token != self.user_token:
            return "uploaded on another user's account"
        if len(replies) != 1:
            return f"{len(replies)} replies in the thread"
        said = f"team member {self.entity_id} at location {self.location}"
        if said not in _text(replies[0].args):
            return f"the reply does not say {said!r}"
        if len(answers.reactions.get((self.channel, self.ts), [])) != 1:
            return "not one reaction"
        return None


Expectation = CommandAnswer | ClickAnswer | PhotoAnswer


@dataclass
class Job:
    kind: str
    request: Signed
    expect: Expectation


# -- the mix ------------------------------------------------------------------------------------


@dataclass
class Sharer:
    user_id: str
    login: str
    password: str
    user_token: str


def kinds_of(count: int, seed: int, mix: tuple[str, ...] = KINDS) -> list[str]:
    """An equal share of each kind in `mix` (the first get the remainder), shuffled."""
    kinds = [mix[i % len(mix)] for i in range(count)]
    random.Random(seed).shuffle(kinds)
    return kinds


def expected_e164(typed: str) -> str:
    """What the bot must normalise `typed` to (the formats above need no phone library)."""
    digits = re.sub(r"\D", "", typed)
    return "+" + (digits[2:] if typed.startswith("00") else digits)


def alert_button(alert: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in alert.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise RuntimeError(f"the alert in {alert['channel']} has no {action_id} button")


class Mix:
    """Builds the signed requests, each from a user of its own, and what each must be answered.

    Everything a request names is new (user, response_url, number, file, message), except what
    is meant to repeat: cached licences, repeated numbers, the linked sharers.
    """

    def __init__(
        self, slack: FakeSlack, altegio: FakeAltegio, sharers: list[Sharer], alerts: list[dict]
    ) -> None:
        self.slack = slack
        self.altegio = altegio
        self.sharers = sharers
        self.alerts = alerts
        self.serial = itertools.count(1)
        self.next_cold = itertools.count(FIRST_COLD_LOCATION)
        self.next_alert = 0

    def build(self, kinds: list[str], *, spend_alerts: bool = True) -> list[Job]:
        """Jobs for `kinds`; `spend_alerts=False` clicks on alerts again (the bare app ignores
        clicks, and the bot's run must find every alert it clicks untouched)."""
        self._repeatable: list[str] = []
        licences = kinds.count("/license")
        self._cold = [self._cold_location() for _ in range(max(1, licences // COLD_SHARE))]
        self._spend_alerts = spend_alerts
        self._replayed = itertools.cycle(self.alerts)
        build = {
            "/license": self._license,
            "/phone": self._phone,
            "button": self._click,
            "photo": self._photo,
        }
        return [build[kind](next(self.serial)) for kind in kinds]

    @property
    def cold_locations(self) -> list[int]:
        """The locations the last build asks for first."""
        return list(self._cold)

    def _cold_location(self) -> int:
        location = next(self.next_cold)
        self.altegio.add_license(location, plan=PLANS[location % len(PLANS)], days_left=150)
        return location

    def _license(self, n: int) -> Job:
        pool = WARM_LOCATIONS if n % 2 else self._cold
        location = pool[n // 2 % len(pool)]
        url = self.slack.response_url()
        request = slash_command(
            "/license", str(location), user_id=f"U0LIC{n:06d}", response_url=url
        )
        plan = PLANS[location % len(PLANS)]
        expect = CommandAnswer(_path(url), (f"*Location {location}* · {plan} ·",), location)
        return Job("/license", request, expect)

    def _phone(self, n: int) -> Job:
        if self._repeatable and n % REPEAT_EVERY == 0:
            typed = self._repeatable[n % len(self._repeatable)]
        else:
            typed = PHONE_FORMATS[n % len(PHONE_FORMATS)].format(n)
            self._repeatable.append(typed)
            if n % REFUSED_EVERY == 0:
                self.altegio.phone_verdicts[expected_e164(typed)] = False
        e164 = expected_e164(typed)
        verdict = (
            "Altegio does not accept this number."
            if self.altegio.phone_verdicts.get(e164) is False
            else "Altegio accepts this number."
        )
        url = self.slack.response_url()
        request = slash_command("/phone", typed, user_id=f"U0TEL{n:06d}", response_url=url)
        return Job("/phone", request, CommandAnswer(_path(url), (f"`{e164}`", verdict)))

    def _click(self, n: int) -> Job:
        if self._spend_alerts:
            if self.next_alert >= len(self.alerts):
                raise RuntimeError("more clicks than alerts were prepared")
            alert = self.alerts[self.next_alert]
            self.next_alert += 1
        else:
            alert = next(self._replayed)
        action_id = (SNOOZE_1D, SNOOZE_7D, ACKNOWLEDGE)[n % 3]
        user = f"U0CLK{n:06d}"
        url = self.slack.response_url()
        request = block_actions(
            button(action_id, alert_button(alert, action_id)["value"], block_id="alert_actions"),
            user_id=user,
            channel_id=alert["channel"],
            message={k: v for k, v in alert.items() if k != "channel"},
            response_url=url,
        )
        status = f"{'Acknowledged' if action_id == ACKNOWLEDGE else 'Snoozed'} by <@{user}>"
        expect = ClickAnswer(alert["channel"], alert["ts"], status, _path(url))
        return Job("button", request, expect)

    def _photo(self, n: int) -> Job:
        sharer = self.sharers[n % len(self.sharers)]
        channel = f"C0PHOTO{n % PHOTO_CHANNELS}"
        ts = f"{1_700_000_000 + n}.{n % 1_000_000:06d}"
        entity_id, location = n, PHOTO_LOCATIONS[n % len(PHOTO_LOCATIONS)]
        content = JPEG_START + n.to_bytes(8, "big") * 1024 + JPEG_END  # about 8 KiB, its own
        name = f"photo-{n:06d}.jpg"
        file = self.slack.add_file(content, name, user=sharer.user_id)
        event = message_event(
            f"master {entity_id} location {location}",
            channel=channel,
            user=sharer.user_id,
            ts=ts,
            files=[file],
        )
        expect = PhotoAnswer(channel, ts, name, content, entity_id, location, sharer.user_token)
        return Job("photo", event_callback(event), expect)


def _path(response_url: str) -> str:
    return urlsplit(response_url).path


# -- setting up through the bot ----------------------------------------------------------------


def acked(server: Served, requests: list[Signed], concurrency: int, what: str) -> LoadResult:
    load = run_load(server.url, requests, concurrency)
    if load.failed:
        raise RuntimeError(f"{what}: {load.failed} requests were not acked: {dict(load.statuses)}")
    return load


def link_sharers(bot: Served, altegio: FakeAltegio, concurrency: int) -> list[Sharer]:
    """Each sharer submits the login form with their Altegio login and password.

    The form has 2.5 s to reach Altegio and save the session; at Altegio's own pace
    (`--altegio-rate 5`) run `concurrency` at most 5 at once, or the later ones run out of time.
    """
    sharers = []
    for i in range(SHARERS):
        login, password = f"sharer{i}@example.com", f"password-{i}"
        user = altegio.add_user(login, password, name=f"Sharer {i}")
        sharers.append(Sharer(f"U0SHR{i:04d}", login, password, user.user_token))
    submissions = [
        view_submission(
            LOGIN_CALLBACK,
            text_inputs({LOGIN_BLOCK: s.login, PASSWORD_BLOCK: s.password}),
            user_id=s.user_id,
        )
        for s in sharers
    ]
    acked(bot, submissions, concurrency, "login")
    linked = [r for r in altegio.requests("/auth") if r.status == 201]
    if len(linked) != len(sharers):
        raise RuntimeError(f"only {len(linked)} of {len(sharers)} logins reached Altegio")
    return sharers


def post_alerts(
    bot: Served, slack: FakeSlack, count: int, concurrency: int, env: dict[str, str], workdir: Path
) -> list[dict]:
    """`count` channels each watch a lapsing location, and one sweep alerts every one of them."""
    channels = [f"C0ALERT{i:05d}" for i in range(count)]
    urls = [slack.response_url() for _ in channels]
    watches = [
        slash_command(
            "/license",
            f"watch {ALERT_LOCATIONS[i % len(ALERT_LOCATIONS)]}",
            user_id="U0WATCHER",
            channel_id=channel,
            response_url=url,
        )
        for i, (channel, url) in enumerate(zip(channels, urls, strict=True))
    ]
    acked(bot, watches, concurrency, "/license watch")
    paths = {_path(url) for url in urls}
    wait_until(lambda: len(paths & {r.path for r in slack.requests("/response/")}) == len(paths))
    replies = [r.json for r in slack.requests("/response/") if r.path in paths]
    refused = [reply for reply in replies if "now watches" not in _text(reply)]
    if refused:
        raise RuntimeError(f"{len(refused)} watches refused, e.g. {_text(refused[0])[:300]}")
    swept = subprocess.run(
        [sys.executable, "-m", "bot.cli", "alerts"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if swept.returncode != 0:
        raise RuntimeError(f"the alert sweep failed:\n{swept.stderr[-3000:]}")
    wanted = set(channels)
    alerts = [json.loads(json.dumps(m)) for m in slack.messages if m["channel"] in wanted]
    if len(alerts) != count:
        raise RuntimeError(f"the sweep posted {len(alerts)} alerts for {count} watches")
    return alerts


def warm_licences(bot: Served, slack: FakeSlack, altegio: FakeAltegio, concurrency: int) -> None:
    for location in WARM_LOCATIONS:
        altegio.add_license(location, plan=PLANS[location % len(PLANS)], days_left=200)
    urls = [slack.response_url() for _ in WARM_LOCATIONS]
    commands = [
        slash_command("/license", str(location), user_id="U0WARMER", response_url=url)
        for location, url in zip(WARM_LOCATIONS, urls, strict=True)
    ]
    acked(bot, commands, concurrency, "/license")
    paths = {_path(url) for url in urls}
    wait_until(lambda: len(paths & {r.path for r in slack.requests("/response/")}) == len(paths))


def wait_until(done: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done within {timeout:.0f} s")
        time.sleep(0.1)


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One app's measured run."""

    name: str
    jobs: list[Job]
    load: LoadResult
    cpu: float | None  # server CPU seconds, the bot's answers included
    peak_rss_kib: int | None
    rss_at_start_kib: int | None = None
    cold_locations: list[int] = field(default_factory=list)  # first asked for in this run
    warmup_problems: int = 0  # wrong or missing answers in the warm-up before it
    answers: Answers | None = None  # the bot's only
    answered_at: dict[int, float] | None = None  # job index -> when its answer arrived
    altegio_calls: Counter[str] | None = None

    def kind(self, kind: str) -> LoadResult:
        return self.load.part(i for i, job in enumerate(self.jobs) if job.kind == kind)

    def slow(self, load: LoadResult | None = None) -> int:
        load = load or self.load
        return sum(1 for _, latency, _ in load.each if latency > ACK_LIMIT)

    def problems(self) -> list[tuple[int, str]]:
        if self.answers is None:
            return []
        found = []
        for index, job in enumerate(self.jobs):
            problem = job.expect.problem(self.answers)
            if problem:
                found.append((index, f"{job.kind}: {problem}"))
        return found


def measure(
    server: Served,
    jobs: list[Job],
    concurrency: int,
    *,
    slack: FakeSlack | None = None,
    altegio: FakeAltegio | None = None,
    timeout: float = 300.0,
) -> Run:
    """Send every job; for the bot, wait for every answer (or `timeout` seconds) before the CPU
    time is read, so the work after the acks counts."""
    cpu_before = server.cpu_seconds()
    load = run_load(server.url, [job.request for job in jobs], concurrency)
    run = Run(server.name, jobs, load, None, None)
    if slack is not None and altegio is not None:
        collect(run, slack, altegio, timeout)
        run.altegio_calls = Counter(
            _altegio_call(r.path) for r in altegio.requests() if r.started >= load.started
        )
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        run.cpu = cpu_after - cpu_before
    run.peak_rss_kib = server.peak_rss_kib()
    return run


def collect(run: Run, slack: FakeSlack, altegio: FakeAltegio, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        answers = Answers(slack, altegio)
        arrived = {i: job.expect.answered_at(answers) for i, job in enumerate(run.jobs)}
        if all(t is not None for t in arrived.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    time.sleep(SETTLE)
    run.answers = Answers(slack, altegio)
    run.answered_at = {
        i: t
        for i, job in enumerate(run.jobs)
        if (t := job.expect.answered_at(run.answers)) is not None
    }


def _altegio_call(path: str) -> str:
    for name, marker in (("licence", "/license/"), ("phone", "/validate_phone/")):
        if marker in path:
            return name
    return "upload" if "/images/" in path else path


# -- the report ---------------------------------------------------------------------------------


def report(args: argparse.Namespace, bare: Run, bot: Run, load_avg: str) -> bool:
    per_kind = Counter(job.kind for job in bot.jobs)
    print(
        f"Mixed load: {len(bot.jobs)} signed requests per app "
        f"({', '.join(f'{n} {kind}' for kind, n in per_kind.items())}), shuffled, "
        f"concurrency {args.concurrency}, bot workers {args.workers}; "
        f"fakes answer after {ms(args.latency)}; "
        f"load average before: {load_avg}"
    )
    print(f"{'':11}{'kind':10}{'acks':>6}{'p50':>10}{'p99':>10}{'max':>10}{'>3 s':>6}{'failed':>8}")
    for run in (bare, bot):
        for kind in (*KINDS, "all"):
            load = run.load if kind == "all" else run.kind(kind)
            if not load.latencies:
                continue
            print(
                f"{run.name:11}{kind:10}{len(load.latencies):>6}{ms(load.p50):>10}"
                f"{ms(load.p99):>10}{ms(load.latencies[-1]):>10}{run.slow(load):>6}"
                f"{load.failed:>8}"
            )

    print("\nbot answers (from sending the request to the answer reaching the fake Slack):")
    problems = bot.problems()
    wrong_by_kind = Counter(bot.jobs[i].kind for i, _ in problems)
    answered_at = bot.answered_at or {}
    for kind in KINDS:
        indexes = [i for i, job in enumerate(bot.jobs) if job.kind == kind]
        if not indexes:
            continue
        waits = sorted(answered_at[i] - bot.load.each[i][0] for i in indexes if i in answered_at)
        right = len(indexes) - wrong_by_kind[kind]
        timing = (
            f"p50 {ms(_pct(waits, 50))}, p99 {ms(_pct(waits, 99))}, max {ms(waits[-1])}"
            if waits
            else "none arrived"
        )
        print(f"  {kind:10}{right:>5} of {len(indexes)} right; answered {timing}")
    last = max(answered_at.values(), default=bot.load.started)
    print(f"  every answer in {last - bot.load.started:.1f} s from the first request")
    for index, problem in problems[:10]:
        print(f"  WRONG #{index} {problem}")
    if len(problems) > 10:
        print(f"  … and {len(problems) - 10} more")

    calls = bot.altegio_calls or Counter()
    distinct_numbers = {
        job.expect.must_have[0]
        for job in bot.jobs
        if job.kind == "/phone" and isinstance(job.expect, CommandAnswer)
    }
    print(
        f"Altegio calls during the run: {calls['licence']} licence "
        f"({len(bot.cold_locations)} locations not cached before), "
        f"{calls['phone']} phone ({len(distinct_numbers)} distinct "
        f"numbers), {calls['upload']} uploads ({per_kind['photo']} photos)"
    )

    print(
        f"\n{'':11}{'acks/s':>8}{'CPU/request':>13}{'peak RSS':>10}{'at start':>10}"
        "   (the bot's CPU includes its answers)"
    )
    for run in (bare, bot):
        cpu = ms(run.cpu / len(run.jobs)) if run.cpu is not None else "-"
        print(
            f"{run.name:11}{run.load.rps:>8.0f}{cpu:>13}"
            f"{_mib(run.peak_rss_kib):>10}{_mib(run.rss_at_start_kib):>10}"
        )
    print(
        f"bot / bare: ack p50 {bot.load.p50 / bare.load.p50:.2f}x, "
        f"p99 {bot.load.p99 / bare.load.p99:.2f}x, throughput {bot.load.rps / bare.load.rps:.2f}x"
        + (f", CPU {bot.cpu / bare.cpu:.1f}x" if bot.cpu and bare.cpu else "")
    )

    slow = bot.slow() + bare.slow()
    failed = bot.load.failed + bare.load.failed
    wrong = len(problems) + bot.warmup_problems
    ok = not (slow or failed or wrong)
    print(
        f"\n{'OK' if ok else 'FAILED'}: {slow} acks over {ACK_LIMIT:.0f} s, "
        f"{failed} not acked, {wrong} wrong or missing answers "
        f"({bot.warmup_problems} of them in the bot's warm-up)"
    )
    return ok


def _mib(kib: int | None) -> str:
    return f"{kib / 1024:.0f} MiB" if kib else "-"


def _pct(values: list[float], q: float) -> float:
    rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return values[rank]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="measured requests per app")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--kinds",
        type=_kinds,
        default=KINDS,
        help=f"the mix, comma-separated (default: {','.join(KINDS)}); one kind alone gives its "
        "own CPU cost",
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per app")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds each fake takes to answer"
    )
    parser.add_argument(
        "--altegio-rate",
        type=float,
        default=100,
        help="the bot's Altegio pacing (ALTEGIO_RATE_LIMIT); Altegio itself allows 5 a second",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to make a schema in (default: a SQLite file)",
    )
    parser.add_argument(
        "--answer-timeout", type=float, default=300, help="seconds to wait for the bot's answers"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=1, help="the bot's worker processes (serve --workers)"
    )
    parser.add_argument(
        "--redis-url", help="REDIS_URL for the bot, so its workers share one Altegio budget"
    )
    args = parser.parse_args()
    load_avg = ", ".join(f"{n:.2f}" for n in os.getloadavg())

    with (
        FakeAltegio(latency=args.latency) as altegio,
        FakeSlack(latency=args.latency) as slack,
        tempfile.TemporaryDirectory(prefix="altegio-load-") as tmp,
    ):
        workdir = Path(tmp)
        databases = Databases(args.database_url, workdir)
        settings = {
            **settings_for(altegio, slack),
            "database_url": databases.fresh(),
            "bot_encryption_key": generate_key(),
            # At Altegio's own 5 a second or less the bot also keeps to 200 a minute.
            "altegio_rate_limit": str(args.altegio_rate),
            **({"redis_url": args.redis_url} if args.redis_url else {}),
        }
        try:
            bare, bot, bot_log = run(args, clean_env(settings), workdir, slack, altegio)
        finally:
            databases.drop_all()

    ok = report(args, bare, bot, load_avg)
    if not ok:
        print("\nthe end of the bot's log:\n" + bot_log[-2000:])
    raise SystemExit(0 if ok else 1)


def run(
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    slack: FakeSlack,
    altegio: FakeAltegio,
) -> tuple[Run, Run, str]:
    """Set up through the bot, then a warm-up and the measured run on each app."""
    for location in ALERT_LOCATIONS:
        altegio.add_license(location, days_left=5)
    warmup = kinds_of(args.warmup, args.seed, args.kinds)
    measured = kinds_of(args.count, args.seed + 1, args.kinds)
    clicks = warmup.count("button") + measured.count("button")

    with (
        serve_bot(env, workdir, workers=args.workers) as bot,
        serve_bare_bolt(env, workdir, mix=True) as bare,
    ):
        at_start = {server.name: server.peak_rss_kib() for server in (bot, bare)}
        logins_at_once = min(args.concurrency, max(1, int(args.altegio_rate)))
        sharers = link_sharers(bot, altegio, logins_at_once)
        alerts = post_alerts(bot, slack, clicks, args.concurrency, env, workdir)
        warm_licences(bot, slack, altegio, args.concurrency)
        mix = Mix(slack, altegio, sharers, alerts)

        measure(bare, mix.build(warmup, spend_alerts=False), args.concurrency)
        bare_run = measure(bare, mix.build(measured, spend_alerts=False), args.concurrency)

        answered = {"slack": slack, "altegio": altegio, "timeout": args.answer_timeout}
        warm_run = measure(bot, mix.build(warmup), args.concurrency, **answered)
        bot_run = measure(bot, mix.build(measured), args.concurrency, **answered)
        bot_run.cold_locations = mix.cold_locations
        bot_run.warmup_problems = len(warm_run.problems())
        log = bot.log()

    for one in (bare_run, bot_run):
        one.rss_at_start_kib = at_start[one.name]
    return bare_run, bot_run, log


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"kinds are {', '.join(KINDS)}; not {unknown or text!r}")
    return kinds


if __name__ == "__main__":
    main()
