"""The baseline for bench/load.py: a Bolt AsyncApp that only acks the load's whole mix.

`/license` and `/phone` commands, any button click and `message` events (photo shares) are
acknowledged and nothing else happens. Served like the bot and like bench/bare_bolt.py: the same
Starlette adapter, the bot's uvicorn settings and event loop. Reads SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET and SLACK_API_URL from the environment.

    python bench/bare_mix.py --port 3001
"""

from __future__ import annotations

import argparse
import asyncio
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


def build() -> Starlette:
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
    args = parser.parse_args()
    server = uvicorn.Server(uvicorn_config(build(), host=args.host, port=args.port))
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the bot's event loop too
        runner.run(server.serve())


if __name__ == "__main__":
    main()
