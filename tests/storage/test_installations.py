"""Installations and OAuth states in the bot's database, through slack_sdk's store interfaces."""

from __future__ import annotations

import asyncio

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select, text

from bot.storage import SqlInstallationStore, SqlOAuthStateStore


def _installation(team: str, token: str, **extra: object) -> Installation:
    values: dict = {
        "app_id": "A1",
        "team_id": team,
        "team_name": f"Team {team}",
        "bot_token": token,
        "bot_id": f"B{team}",
        "bot_user_id": f"U{team}BOT",
        "bot_scopes": "commands,chat:write",
        "user_id": f"U{team}ADMIN",
        **extra,
    }
    return Installation(**values)


async def test_each_workspace_finds_its_own_bot_token(make_store) -> None:
    store = await make_store()
    installs = SqlInstallationStore(store)
    await installs.async_save(_installation("T1", "xoxb-one"))
    await installs.async_save(_installation("T2", "xoxb-two"))
    # Another process (its own engine) reads what this one saved.
    other = SqlInstallationStore(await make_store())
    one = await other.async_find_bot(enterprise_id=None, team_id="T1")
    two = await other.async_find_bot(enterprise_id=None, team_id="T2")
    assert (one.bot_token, one.bot_user_id, one.bot_scopes) == (
        "xoxb-one",
        "UT1BOT",
        ["commands", "chat:write"],
    )
    assert two.bot_token == "xoxb-two"
    assert await other.async_find_bot(enterprise_id=None, team_id="T3") is None
    found = await other.async_find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.user_id) == ("xoxb-one", "UT1ADMIN")


async def test_reinstalling_replaces_the_token(store) -> None:
    installs = SqlInstallationStore(store)
    await installs.async_save(_installation("T1", "xoxb-old"))
    await installs.async_save(_installation("T1", "xoxb-new"))
    assert (await installs.bot_for("T1")).bot_token == "xoxb-new"


async def test_tokens_are_encrypted_at_rest(store) -> None:
    installs = SqlInstallationStore(store)
    await installs.async_save(
        _installation(
            "T1",
            "xoxe.xoxb-secret-bot",
            bot_refresh_token="xoxe-1-secret-refresh",
            bot_token_expires_in=43200,
        )
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM installations"))).all()
    dump = repr(rows)
    assert "secret-bot" not in dump and "secret-refresh" not in dump
    bot = await installs.bot_for("T1")
    assert bot.bot_token == "xoxe.xoxb-secret-bot"
    assert bot.bot_refresh_token == "xoxe-1-secret-refresh"
    assert bot.bot_token_expires_at is not None


async def test_an_org_wide_install_is_keyed_by_its_enterprise(store) -> None:
    installs = SqlInstallationStore(store)
    await installs.async_save(
        _installation(
            None,
            "xoxb-org",
            enterprise_id="E1",
            enterprise_name="Org",
            is_enterprise_install=True,
        )
    )
    # Requests from any workspace of the org find it (Bolt passes the org and the workspace).
    bot = await installs.async_find_bot(
        enterprise_id="E1", team_id="T9", is_enterprise_install=True
    )
    assert bot is not None and bot.bot_token == "xoxb-org" and bot.is_enterprise_install
    assert (await installs.bot_for("E1")).bot_token == "xoxb-org"
    # A workspace of the same org installed on its own is another installation.
    await installs.async_save(_installation("T9", "xoxb-t9", enterprise_id="E1"))
    bot = await installs.async_find_bot(enterprise_id="E1", team_id="T9")
    assert bot.bot_token == "xoxb-t9"
    await installs.async_delete_all(enterprise_id="E1", team_id=None)
    assert await installs.bot_for("E1") is None
    assert (await installs.bot_for("T9")).bot_token == "xoxb-t9"


async def test_forget_workspace_deletes_its_rows_only(store) -> None:
    installs = SqlInstallationStore(store)
    for team in ("T1", "T2"):
        await installs.async_save(_installation(team, f"xoxb-{team}"))
        await store.save_account(
            team, "U1", altegio_user_id=1, name="Ann", login="ann@example.com", user_token="t"
        )
        await store.add_watch(team, "C1", 4523464, "U1")
        await store.claim_file(team, "F1")
    deleted = await store.forget_workspace("T1")
    assert deleted["installations"] == 1 and deleted["accounts"] == 1
    assert deleted["watches"] == 1 and deleted["files"] == 1
    assert await installs.bot_for("T1") is None
    assert await store.get_account("T1", "U1") is None
    assert await store.list_watches("T1") == []
    assert (await installs.bot_for("T2")).bot_token == "xoxb-T2"
    assert await store.get_account("T2", "U1") is not None
    assert len(await store.list_watches("T2")) == 1
    # Again (app_uninstalled after tokens_revoked): nothing left, nothing else touched.
    assert sum((await store.forget_workspace("T1")).values()) == 0
    assert len(await store.list_watches("T2")) == 1


async def test_a_state_is_consumed_once_across_processes(make_store, clock) -> None:
    first = SqlOAuthStateStore(await make_store())
    second = SqlOAuthStateStore(await make_store())
    state = await first.async_issue()
    results = await asyncio.gather(*(s.async_consume(state) for s in (first, second) * 4))
    assert results.count(True) == 1
    assert not await first.async_consume("made-up")
    assert not await first.async_consume("")


async def test_an_expired_state_is_refused_and_pruned(store, clock) -> None:
    states = SqlOAuthStateStore(store, expiration_seconds=600)
    old = await states.async_issue()
    clock.advance(601)
    assert not await states.async_consume(old)
    await states.async_issue()  # prunes what has expired
    async with store.engine.connect() as conn:
        from bot.storage.schema import oauth_states

        assert len((await conn.execute(select(oauth_states))).all()) == 1


async def test_a_bot_token_copied_to_another_workspace_does_not_decrypt(store) -> None:
    installs = SqlInstallationStore(store)
    await installs.async_save(_installation("T1", "xoxb-one"))
    await installs.async_save(_installation("T2", "xoxb-two"))
    async with store.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE installations SET bot_token_ciphertext = (SELECT bot_token_ciphertext "
                "FROM installations WHERE workspace = 'T1') WHERE workspace = 'T2'"
            )
        )
    assert await installs.bot_for("T2") is None  # never T1's token
    assert (await installs.bot_for("T1")).bot_token == "xoxb-one"


async def test_rotate_keys_reencrypts_installed_tokens(database_url, encryption_key) -> None:
    from bot.storage import generate_key, open_store

    old = await open_store(database_url, encryption_key)
    await SqlInstallationStore(old).async_save(
        _installation("T1", "xoxb-one", bot_refresh_token="xoxe-1-r", bot_token_expires_in=60)
    )
    await old.close()
    new_key = generate_key()
    both = await open_store(database_url, f"{new_key},{encryption_key}")
    await both.rotate_keys()
    await both.close()
    only_new = await open_store(database_url, new_key)
    try:
        bot = await SqlInstallationStore(only_new).bot_for("T1")
        assert (bot.bot_token, bot.bot_refresh_token) == ("xoxb-one", "xoxe-1-r")
    finally:
        await only_new.close()
