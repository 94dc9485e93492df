"""The baseline for the bench: a Bolt AsyncApp whose `/license` listener only acks.

Served like the bot: the same Starlette adapter, the bot's own uvicorn settings
(`bot.server.uvicorn_config`) and event loop (`bot.server.loop_factory`). Reads SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET and SLACK_API_URL from the environment.

    python bench/bare_bolt.py --port 3001
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
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

    @app.command("/license")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

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
    gc.collect()  # as `altegio-bot serve` does: start-up objects out of full collections
    gc.freeze()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the bot's event loop too
        runner.run(server.serve())


if __name__ == "__main__":
    main()
