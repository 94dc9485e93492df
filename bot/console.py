"""`altegio-bot console`: try the bot without Slack, like Hubot's shell.

Type a slash command; it goes through the same Bolt app and handlers as a real Slack request
(signature checks off), and every reply — through response_url or the Web API — is printed
as text instead of being sent to Slack. Verbs starting with `:` do what a person would do in
Slack's own interface: press a button, fill in a form, share a photo; `:sweep` runs the alert
sweep at once.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import shlex
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.console_slack import LocalSlack
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack_requests import bolt_request

TEAM, USER, CHANNEL = "T0CONSOLE", "U0CONSOLE", "C0CONSOLE"
PROMPT = "altegio> "
HELP = "Type a slash command such as `/license 4523464` or `/phone +44 20 7946 0958`; `exit` quits."
VERBS = """\
  /license 4523464 · /license watch 4523464 · /phone +44 20 7946 0958 · /altegio login
  :sweep                  post the licence alerts that are due now (as `altegio-bot alerts`)
  :click <button>         press a button of the latest message that has it, by its label or
                          action id, e.g. `:click Snooze 1 day` or `:click alert_acknowledge`
  :share <file> <caption> share a local image in the channel, e.g.
                          `:share photo.jpg master 17 location 4523464`
  A form the bot opens (the login form) asks for each field in turn.
  :help shows this; exit (or end of input) quits."""


def render(blocks: list[dict[str, Any]] | None, text: str | None = None) -> str:
    """Block Kit as plain lines, close enough to read what Slack would show."""
    if not blocks:
        return text or ""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            if block.get("text"):
                lines.append(block["text"]["text"])
            for field in block.get("fields", []):
                lines.append("  " + field["text"].replace("\n", ": ", 1))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                lines.append(f"  [{accessory['text']['text']}]")
        elif kind == "context":
            lines.append("  " + " · ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "actions":
            lines.append(
                "  " + " ".join(f"[{e['text']['text']}]" for e in block["elements"] if "text" in e)
            )
        elif kind == "divider":
            lines.append("  ---")
        elif kind == "input":
            lines.append(f"  {block['label']['text']}: ____")
    return "\n".join(lines)


@dataclass
class Shown:
    """A message the console printed, kept so that its buttons can be pressed."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    response_url: str | None = None


@dataclass
class Screen:
    """What the user has seen: messages with buttons, and the form the bot opened last."""

    messages: list[Shown] = field(default_factory=list)
    view: dict[str, Any] | None = None

    def remember(self, shown: Shown) -> None:
        if shown.blocks:
            self.messages.append(shown)
            del self.messages[:-50]

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        for shown in self.messages:
            if shown.channel == channel and shown.ts == ts:
                shown.text, shown.blocks = text, blocks

    def button(self, wanted: str) -> tuple[Shown, str, dict[str, Any]] | None:
        """The latest button whose label or action id is `wanted` (an action id may be given
        without its feature's prefix: `snooze_1d` for `alert_snooze_1d`)."""
        wanted = wanted.strip().lower()
        for shown in reversed(self.messages):
            for block_id, element in _buttons(shown.blocks):
                label = str((element.get("text") or {}).get("text", "")).lower()
                action = str(element.get("action_id", "")).lower()
                if wanted in (label, action) or action.endswith("_" + wanted):
                    return shown, block_id, element
        return None


def _shareable(rest: str) -> tuple[Path | None, str]:
    """(an existing file, the caption) from `<file> <caption>`; quote a path with spaces."""
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if not words:
        return None, ""
    path = Path(words[0]).expanduser()
    return (path if path.is_file() else None), " ".join(words[1:])


def _buttons(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks:
        if not isinstance(block, dict):
            continue
        candidates = [*block.get("elements", [])] if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("type") == "button":
                yield str(block.get("block_id", "")), element


class ConsoleWebClient(AsyncWebClient):
    """A Web API client that prints what the bot would send and answers like Slack."""

    def __init__(
        self,
        out: Callable[[str], None],
        screen: Screen | None = None,
        files: LocalSlack | None = None,
    ) -> None:
        super().__init__(token="xoxb-console")  # noqa: S106 - a placeholder, never sent
        self._out = out
        self.screen = screen or Screen()
        self.files = files

    async def api_call(
        self,
        api_method: str,
        *,
        params: dict | None = None,
        json: dict | None = None,
        data: dict | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        args = {**(params or {}), **(data or {}), **(json or {})}
        ts = f"{time.time():.6f}"
        body: dict[str, Any] = {
            "ok": True,
            "ts": ts,
            "channel": args.get("channel", CHANNEL),
            "view": {"id": "V0CONSOLE"},
        }
        if api_method == "auth.test":
            body = {
                "ok": True,
                "team_id": TEAM,
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "team": "console",
            }
        elif api_method == "files.info":
            found = self.files.file(str(args.get("file"))) if self.files else None
            body = (
                {"ok": True, "file": found} if found else {"ok": False, "error": "file_not_found"}
            )
        elif api_method == "users.conversations":  # the console's one channel, for App Home
            body = {"ok": True, "channels": [{"id": CHANNEL}], "response_metadata": {}}
        elif api_method == "users.info":
            # A member of the console's workspace with no Slack language: DEFAULT_LOCALE.
            body = {"ok": True, "user": {"id": args.get("user"), "team_id": TEAM}}
        elif api_method == "reactions.add":
            self._out(f"[reactions.add] :{args.get('name')}:")
        else:
            blocks = args.get("blocks")
            if isinstance(blocks, str):
                blocks = _loads(blocks)
            view = args.get("view")
            if isinstance(view, str):
                view = _loads(view)
            if api_method in ("views.open", "views.push") and isinstance(view, dict):
                self.screen.view = view
            shown = render(blocks or (view or {}).get("blocks"), args.get("text"))
            self._out(f"[{api_method}]\n{shown}" if shown else f"[{api_method}]")
            channel, text = str(args.get("channel", CHANNEL)), str(args.get("text") or "")
            if api_method == "chat.update":
                self.screen.update(channel, str(args.get("ts")), text, blocks or [])
            elif api_method.startswith("chat.post"):
                self.screen.remember(Shown(channel, ts, text, blocks or []))
        response = AsyncSlackResponse(
            client=self,
            http_verb="POST",
            api_url=api_method,
            req_args={},
            data=body,
            headers={},
            status_code=200,
        )
        return response.validate()


def _loads(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return None


async def console_authorize() -> AuthorizeResult:
    """Who the bot is here. Without it Bolt asks Slack's auth.test before any listener runs,
    on a plain client of its own that the console cannot intercept."""
    return AuthorizeResult(
        enterprise_id=None,
        team_id=TEAM,
        bot_token="xoxb-console",  # noqa: S106 - a placeholder, never sent
        bot_id="B0BOT",
        bot_user_id="U0BOT",
    )


class ConsoleRespond:
    def __init__(self, show: Callable[[dict[str, Any]], None]) -> None:
        self._show = show

    async def __call__(self, text: str = "", blocks: list | None = None, **_: Any) -> None:
        self._show({"text": text, "blocks": blocks})


class Lines:
    """Where typed lines come from: a script (tests), piped stdin, or a terminal."""

    def __init__(self, script: Iterator[str] | None = None) -> None:
        self._script = script
        self.interactive = script is None and sys.stdin.isatty()

    async def read(self, prompt: str = PROMPT, *, secret: bool = False) -> str | None:
        if self._script is not None:
            return next(self._script, None)
        return await asyncio.to_thread(self._read, prompt, secret)

    def _read(self, prompt: str, secret: bool) -> str | None:
        try:
            if not self.interactive:
                line = sys.stdin.readline()
                return line.rstrip("\n") if line else None
            return getpass.getpass(prompt) if secret else input(prompt)
        except EOFError:
            return None


class Console:
    def __init__(
        self,
        runtime: Runtime,
        out: Callable[[str], None],
        *,
        screen: Screen | None = None,
        local: LocalSlack | None = None,
        lines: Lines | None = None,
    ) -> None:
        self.runtime = runtime
        self.out = out
        self.screen = screen or Screen()
        self.local = local
        self.lines = lines or Lines(iter(()))
        respond = ConsoleRespond(self.show_reply)
        client = runtime.app.client

        @runtime.app.middleware
        async def console_respond(
            context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
        ) -> BoltResponse:
            context["respond"] = respond
            context["client"] = client  # Bolt builds a plain client per request; keep ours
            return await next()

    @property
    def response_url(self) -> str:
        return self.local.respond_url if self.local else "https://console.invalid/respond"

    def show_reply(self, message: dict[str, Any]) -> None:
        """A reply through response_url (respond()): printed, and its buttons kept."""
        blocks = message.get("blocks")
        if isinstance(blocks, str):
            blocks = _loads(blocks)
        self.out(render(blocks, message.get("text")))
        self.screen.remember(
            Shown(
                CHANNEL,
                f"{time.time():.6f}",
                str(message.get("text") or ""),
                blocks or [],
                self.response_url,
            )
        )

    async def handle(self, line: str) -> None:
        """One typed line: a slash command or a `:verb`."""
        line = line.strip()
        if line.startswith("/"):
            await self.run_command(line)
        elif line.startswith(":"):
            verb, _, rest = line[1:].partition(" ")
            action = {
                "sweep": self.sweep,
                "click": self.click,
                "share": self.share,
                "help": self.help,
            }.get(verb.lower())
            if action is None:
                self.out(f"No such console verb: :{verb}.\n{VERBS}")
                return
            await action(rest.strip())
        else:
            self.out(HELP)
        await self.fill_in_form()

    async def help(self, _: str = "") -> None:
        self.out(f"{HELP}\n{VERBS}")

    async def run_command(self, line: str) -> None:
        """Dispatch one typed slash command and wait for the work that follows the ack."""
        command, _, text = line.strip().partition(" ")
        body = urlencode(
            {
                "command": command,
                "text": text.strip(),
                "team_id": TEAM,
                "user_id": USER,
                "user_name": "console",
                "channel_id": CHANNEL,
                "channel_name": "console",
                "trigger_id": uuid.uuid4().hex,
                "response_url": self.response_url,
            }
        )
        response = await self._dispatch(body.encode())
        if response.status == 404:
            print(f"No such command here: {command}. {HELP}")

    async def _dispatch(self, body: bytes) -> BoltResponse:
        pending = set(asyncio.all_tasks())
        response = await self.runtime.app.async_dispatch(bolt_request(body))
        # Bolt runs the listener on after the ack: wait for that work before the next prompt.
        started = [
            t for t in asyncio.all_tasks() if t not in pending and t is not asyncio.current_task()
        ]
        if started:
            await asyncio.wait(started, timeout=self.runtime.settings.altegio_timeout * 4)
        return response

    async def _interact(self, payload: dict[str, Any]) -> BoltResponse:
        base = {
            "team": {"id": TEAM, "domain": "console"},
            "user": {"id": USER, "team_id": TEAM, "name": "console"},
            "api_app_id": "A0CONSOLE",
            "trigger_id": uuid.uuid4().hex,
        }
        body = urlencode({"payload": json.dumps({**base, **payload})})
        return await self._dispatch(body.encode())

    async def sweep(self, _: str = "") -> None:
        from bot.sweeper import SweepFailed, sweep_once

        try:
            summary = await sweep_once(self.runtime, self.runtime.app.client)
        except SweepFailed as exc:
            self.out(str(exc))
            return
        self.out(f"[{summary.line()}]")

    async def click(self, wanted: str) -> None:
        found = self.screen.button(wanted) if wanted else None
        if found is None:
            self.out(f"No button `{wanted}` on the messages shown so far.")
            return
        shown, block_id, button = found
        if button.get("url"):
            self.out(f"(opens {button['url']} in a browser)")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "container": {
                "type": "message",
                "message_ts": shown.ts,
                "channel_id": shown.channel,
                "is_ephemeral": shown.response_url is not None,
            },
            "channel": {"id": shown.channel, "name": "console"},
            "message": {
                "type": "message",
                "ts": shown.ts,
                "text": shown.text,
                "blocks": shown.blocks,
            },
            "response_url": shown.response_url or self.response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": button.get("action_id"),
                    "block_id": block_id,
                    "text": button.get("text"),
                    "value": button.get("value"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        await self._interact(payload)

    async def share(self, rest: str) -> None:
        path, caption = _shareable(rest)
        if path is None or self.local is None:
            self.out(
                "Usage: :share <image file> <caption>, e.g. "
                "`:share photo.jpg master 17 location 4523464`"
            )
            return
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "subtype": "file_share",
            "channel": CHANNEL,
            "channel_type": "channel",
            "user": USER,
            "ts": ts,
            "event_ts": ts,
            "text": caption,
            "files": [self.local.share(path)],
        }
        body = {
            "token": "console",
            "team_id": TEAM,
            "api_app_id": "A0CONSOLE",
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:12].upper(),
            "event_time": int(time.time()),
            "event": event,
        }
        self.out(f"(shared {path.name} in #console: {caption})")
        await self._dispatch(json.dumps(body).encode())

    async def fill_in_form(self) -> None:
        """A form the bot opened: ask for each field, then submit it as Slack would."""
        view, self.screen.view = self.screen.view, None
        if not view:
            return
        values: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks") or []:
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            label = str((block.get("label") or {}).get("text", "Value"))
            secret = "password" in f"{block.get('block_id', '')} {label}".lower()
            answer = await self.lines.read(f"{label}: ", secret=secret)
            if answer is None:
                self.out("(form closed)")
                return
            values[str(block.get("block_id"))] = {
                str(element.get("action_id")): {
                    "type": element.get("type", "plain_text_input"),
                    "value": answer.strip() if not secret else answer,
                }
            }
        payload = {
            "type": "view_submission",
            "view": {
                **view,
                "id": "V0CONSOLE",
                "team_id": TEAM,
                "state": {"values": values},
            },
        }
        response = await self._interact(payload)
        answer = _loads(response.body) if response.body else None
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            for problem in (answer.get("errors") or {}).values():
                self.out(f"[form] {problem}")


async def run_console(settings: Settings, lines: Any = None, *, banner: str | None = None) -> None:
    def out(text: str) -> None:
        print(text, flush=True)

    screen = Screen()
    source = Lines(lines)
    console: Console | None = None
    local = await LocalSlack(
        lambda message: console.show_reply(message) if console else None
    ).start()
    # Shared files are downloaded from the local stand-in, which must count as Slack's host.
    settings = settings.model_copy(update={"slack_api_url": local.url + "/api/"})
    runtime = await Runtime.open(
        settings,
        client=ConsoleWebClient(out, screen, local),
        request_verification=False,
        authorize=console_authorize,
    )
    console = Console(runtime, out, screen=screen, local=local, lines=source)
    if banner:
        out(banner)
    if source.interactive:
        print(HELP)
    try:
        while True:
            line = await source.read()
            if line is None or line.strip() in {"exit", "quit"}:
                break
            if not line.strip():
                continue
            await console.handle(line)
    finally:
        await runtime.close()
        await local.stop()
