"""Typed access to what the bot injects into every Bolt context."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.context.async_context import AsyncBoltContext

from api import AltegioClient
from handlers.config import HandlerConfig
from handlers.store import Store


@dataclass(frozen=True)
class Deps:
    altegio: AltegioClient
    store: Store
    config: HandlerConfig


def deps(context: AsyncBoltContext) -> Deps:
    return Deps(altegio=context["altegio"], store=context["store"], config=context["config"])


def team_of(context: AsyncBoltContext) -> str:
    # Enterprise Grid org-wide installs may carry no team id; the org id keys their rows instead.
    return context.team_id or context.enterprise_id or ""
