"""The baseline for the benches: a Bolt AsyncApp that only acks.

By default it answers `/license` (bench/commands.py); with `--mix`, the whole mix of
bench/load.py: `/license` and `/phone`, any button click and `message` events (photo shares).

Served like the bot: the same Starlette adapter, the bot's own uvicorn settings
(`bot.server.uvicorn_config`) and event loop (`bot.server.loop_factory`). Reads SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET and SLACK_API_URL from the environment.

    python bench/bare_bolt.py --port 3001 [--mix]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.server import loop_factory, uvicorn_config


def build(*, mix: bool = False) -> Starlette:
    app = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def nothing() -> None:
        """Bolt acknowledges an event before its listener runs."""

    app.command("/license")(only_ack)
    if mix:
        app.command("/phone")(only_ack)
        app.action(re.compile(".*"))(only_ack)
        app.event("message")(nothing)

    slack = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await slack.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mix", action="store_true", help="ack bench/load.py's whole mix")
    args = parser.parse_args()
    server = uvicorn.Server(uvicorn_config(build(mix=args.mix), host=args.host, port=args.port))
    gc.collect()  # as `altegio-bot serve` does: start-up objects out of full collections
    gc.freeze()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the bot's event loop too
        runner.run(server.serve())


if __name__ == "__main__":
    main()
