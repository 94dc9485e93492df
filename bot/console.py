"""`altegio-bot console`: try the bot without Slack, like Hubot's shell.

Type a slash command; it goes through the same Bolt app and handlers as a real Slack request
(signature checks off), and every reply — through response_url or the Web API — is printed
as text instead of being sent to Slack.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack_requests import bolt_request

TEAM, USER, CHANNEL = "T0CONSOLE", "U0CONSOLE", "C0CONSOLE"
PROMPT = "altegio> "
HELP = "Type a slash command such as `/license 4523464` or `/phone +44 20 7946 0958`; `exit` quits."


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


class ConsoleWebClient(AsyncWebClient):
    """A Web API client that prints what the bot would send and answers like Slack."""

    def __init__(self, out: Callable[[str], None]) -> None:
        super().__init__(token="xoxb-console")  # noqa: S106 - a placeholder, never sent
        self._out = out

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
        if api_method == "auth.test":
            body: dict[str, Any] = {
                "ok": True,
                "team_id": TEAM,
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "team": "console",
            }
        else:
            blocks = args.get("blocks")
            if isinstance(blocks, str):
                blocks = _loads(blocks)
            view = args.get("view")
            if isinstance(view, str):
                view = _loads(view)
            shown = render(blocks or (view or {}).get("blocks"), args.get("text"))
            self._out(f"[{api_method}]\n{shown}" if shown else f"[{api_method}]")
            body = {
                "ok": True,
                "ts": f"{time.time():.6f}",
                "channel": args.get("channel", CHANNEL),
                "view": {"id": "V0CONSOLE"},
            }
        return AsyncSlackResponse(
            client=self,
            http_verb="POST",
            api_url=api_method,
            req_args={},
            data=body,
            headers={},
            status_code=200,
        )


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
    def __init__(self, out: Callable[[str], None]) -> None:
        self._out = out

    async def __call__(self, text: str = "", blocks: list | None = None, **_: Any) -> None:
        self._out(render(blocks, text))


class Console:
    def __init__(self, runtime: Runtime, out: Callable[[str], None]) -> None:
        self.runtime = runtime
        respond = ConsoleRespond(out)
        client = runtime.app.client

        @runtime.app.middleware
        async def console_respond(
            context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
        ) -> BoltResponse:
            context["respond"] = respond
            context["client"] = client  # Bolt builds a plain client per request; keep ours
            return await next()

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
                "response_url": "https://console.invalid/respond",
            }
        )
        pending = set(asyncio.all_tasks())
        response = await self.runtime.app.async_dispatch(bolt_request(body.encode()))
        # Bolt runs the listener on after the ack: wait for that work before the next prompt.
        started = [
            t for t in asyncio.all_tasks() if t not in pending and t is not asyncio.current_task()
        ]
        if started:
            await asyncio.wait(started, timeout=self.runtime.settings.altegio_timeout * 4)
        if response.status == 404:
            print(f"No such command here: {command}. {HELP}")


async def run_console(settings: Settings, lines: Any = None) -> None:
    def out(text: str) -> None:
        print(text, flush=True)

    runtime = await Runtime.open(
        settings,
        client=ConsoleWebClient(out),
        request_verification=False,
        authorize=console_authorize,
    )
    console = Console(runtime, out)
    interactive = lines is None and sys.stdin.isatty()
    if interactive:
        print(HELP)
    try:
        while True:
            if lines is not None:
                line = next(lines, None)
            else:
                line = await asyncio.to_thread(_read_line, interactive)
            if line is None or line.strip() in {"exit", "quit"}:
                break
            if not line.strip():
                continue
            if not line.strip().startswith("/"):
                print(HELP)
                continue
            await console.run_command(line)
    finally:
        await runtime.close()


def _read_line(interactive: bool) -> str | None:
    try:
        return input(PROMPT) if interactive else (sys.stdin.readline() or None)
    except EOFError:
        return None
