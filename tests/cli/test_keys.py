"""The real `altegio-bot` with the wrong encryption key, and `altegio-bot rotate-keys`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import generate_key, open_store
from tests.cli.support import assert_one_paragraph, run

TOKENS = {"U1": "altegio-user-token-of-u1", "U2": "altegio-user-token-of-u2"}


async def _link(url: str, key: str) -> None:
    store = await open_store(url, key)
    try:
        for user, token in TOKENS.items():
            await store.save_account(
                "T1", user, altegio_user_id=1, name="Ada", login="ada@example.com", user_token=token
            )
    finally:
        await store.close()


async def _tokens(url: str, key: str) -> dict[str, str | None]:
    store = await open_store(url, key)
    try:
        found = {user: await store.get_account("T1", user) for user in TOKENS}
    finally:
        await store.close()
    return {user: account.user_token if account else None for user, account in found.items()}


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["alerts"], ["rotate-keys"]])
def test_a_wrong_key_stops_every_command_with_one_paragraph_and_exit_code_2(
    tmp_path: Path, fake_settings: dict[str, str], command: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    asyncio.run(_link(url, generate_key()))
    wrong = generate_key()
    settings = {**fake_settings, "database_url": url, "bot_encryption_key": wrong}
    finished = run(command, cwd=tmp_path, settings=settings)
    assert finished.returncode == 2, finished.stderr
    assert_one_paragraph(finished.stderr)
    assert "does not match this database" in finished.stderr
    assert "rotate-keys" in finished.stderr
    assert wrong not in finished.stderr + finished.stdout


def test_rotate_keys_moves_every_session_to_the_first_key(
    tmp_path: Path, fake_settings: dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    old, new = generate_key(), generate_key()
    asyncio.run(_link(url, old))
    settings = {**fake_settings, "database_url": url, "bot_encryption_key": f"{new},{old}"}
    finished = run(["rotate-keys"], cwd=tmp_path, settings=settings)
    assert finished.returncode == 0, finished.stderr
    assert "Re-encrypted 2 stored secrets" in finished.stdout
    assert old not in finished.stdout + finished.stderr
    assert new not in finished.stdout + finished.stderr
    assert asyncio.run(_tokens(url, new)) == TOKENS  # the old key is no longer needed
