"""/license watch|unwatch|watching (filled in by the alerts feature)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

SUBCOMMANDS = frozenset({"watch", "unwatch", "watching"})


async def run(
    sub: str, words: list[str], *, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await respond(text="Licence watches are not available yet.", response_type="ephemeral")
