"""manifest.yml against Slack's manifest schema, and against what the bot needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.oauth import BOT_SCOPES, REDIRECT_PATH

REPO = Path(__file__).resolve().parents[1]
# shared/ sits beside the repository (or beside the folder of its work trees).
SCHEMA = next(
    (
        found
        for folder in REPO.parents
        if (found := folder / "shared" / "slack" / "manifest.schema.1.0.0.json").exists()
    ),
    REPO.parent / "shared" / "slack" / "manifest.schema.1.0.0.json",
)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))


def test_the_manifest_follows_slacks_schema(manifest: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not beside the repository ({SCHEMA})")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_add_to_slack_asks_for_the_manifests_scopes(manifest: dict) -> None:
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"]  # no user tokens are kept


def test_a_distributed_app_gets_its_redirect_and_its_uninstall_events(manifest: dict) -> None:
    (redirect,) = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith(REDIRECT_PATH)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    assert manifest["settings"]["org_deploy_enabled"] is True  # Enterprise Grid org-wide


def test_the_readme_says_why_each_scope_is_asked_for(manifest: dict) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Slack scopes", 1)[1].split("\n### ", 1)[0]
    listed = re.findall(r"^\| `([a-z:.]+)` \| \S", section, re.MULTILINE)
    assert sorted(listed) == sorted(manifest["oauth_config"]["scopes"]["bot"])
