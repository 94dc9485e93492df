import logging
import stat
import threading

import pytest
from cryptography.fernet import Fernet

from bot.storage import EncryptionKeyRequired, InvalidEncryptionKey, generate_key
from bot.storage.crypto import (
    InvalidToken,
    TokenCipher,
    key_file_for,
    load_or_create_key_file,
    parse_keys,
    resolve_cipher,
)


def test_generate_key_is_a_fernet_key() -> None:
    key = generate_key()
    Fernet(key)
    assert key != generate_key()


C = "account/T1/U1"


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    cipher = TokenCipher([generate_key()])
    token = cipher.encrypt("user-token-123", context=C)
    assert "user-token-123" not in token
    assert cipher.decrypt(token, context=C) == ("user-token-123", False)


def test_first_key_encrypts_all_keys_decrypt() -> None:
    old, new = generate_key(), generate_key()
    under_old = TokenCipher([old]).encrypt("t", context=C)
    rotated = TokenCipher(parse_keys(f"{new}, {old}"))
    assert rotated.decrypt(under_old, context=C) == ("t", True)  # stale: due for re-encryption
    fresh = rotated.encrypt("t", context=C)
    assert TokenCipher([new]).decrypt(fresh, context=C) == ("t", False)
    with pytest.raises(InvalidToken):
        TokenCipher([old]).decrypt(fresh, context=C)


def test_unknown_key_raises_invalid_token() -> None:
    token = TokenCipher([generate_key()]).encrypt("t", context=C)
    with pytest.raises(InvalidToken):
        TokenCipher([generate_key(), generate_key()]).decrypt(token, context=C)


@pytest.mark.parametrize("other", ["account/T1/U2", "account/T2/U1", "account/T1/U1x", ""])
def test_a_ciphertext_opens_only_in_its_own_context(other: str) -> None:
    cipher = TokenCipher([generate_key()])
    token = cipher.encrypt("t", context=C)
    with pytest.raises(InvalidToken):
        cipher.decrypt(token, context=other)


def test_a_ciphertext_from_before_binding_is_read_only_when_asked() -> None:
    key = generate_key()
    unbound = Fernet(key).encrypt(b"user-token-123").decode()  # as the first release stored it
    cipher = TokenCipher([key])
    with pytest.raises(InvalidToken):
        cipher.decrypt(unbound, context=C)
    assert cipher.decrypt(unbound, context=C, unbound_ok=True) == ("user-token-123", True)


@pytest.mark.parametrize("value", ["", " , ", "not-a-key", f"{generate_key()},short"])
def test_bad_key_list_is_refused_without_echo(value: str) -> None:
    with pytest.raises(InvalidEncryptionKey) as caught:
        parse_keys(value)
    assert "keygen" in str(caught.value)
    for part in value.split(","):
        if part.strip():
            assert part.strip() not in str(caught.value)


def test_postgres_without_key_is_a_clear_error() -> None:
    with pytest.raises(EncryptionKeyRequired, match="BOT_ENCRYPTION_KEY is not set"):
        resolve_cipher(None, sqlite=False, database_path=None)
    with pytest.raises(EncryptionKeyRequired):
        resolve_cipher("  ", sqlite=False, database_path=None)


def test_sqlite_without_key_creates_private_key_file(tmp_path, caplog) -> None:
    db = tmp_path / "bot.db"
    caplog.set_level(logging.INFO, logger="bot.storage")
    cipher = resolve_cipher(None, sqlite=True, database_path=db)
    key_path = tmp_path / "bot.db.key"
    assert key_file_for(db) == key_path
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = key_path.read_text().strip()
    assert str(key_path) in caplog.text
    assert key not in caplog.text
    # The next start reads the same key.
    again = resolve_cipher(None, sqlite=True, database_path=db)
    assert again.decrypt(cipher.encrypt("t", context=C), context=C) == ("t", False)
    assert list(tmp_path.iterdir()) == [key_path]  # no temporary files left behind


def test_key_file_race_ends_with_one_key(tmp_path) -> None:
    path = tmp_path / "race.db.key"
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(load_or_create_key_file(path)[0])

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1
    assert keys[0] == path.read_text().strip()


def test_corrupt_key_file_is_refused(tmp_path) -> None:
    path = tmp_path / "bot.db.key"
    path.write_text("garbage\n")
    path.chmod(0o600)
    with pytest.raises(InvalidEncryptionKey, match=str(path)):
        resolve_cipher(None, sqlite=True, database_path=tmp_path / "bot.db")


def test_world_readable_key_file_is_warned_about(tmp_path, caplog) -> None:
    path = tmp_path / "bot.db.key"
    path.write_text(generate_key())
    path.chmod(0o644)
    load_or_create_key_file(path)
    assert "chmod 600" in caplog.text


def test_setting_wins_over_key_file(tmp_path) -> None:
    db = tmp_path / "bot.db"
    file_cipher = resolve_cipher(None, sqlite=True, database_path=db)
    key = generate_key()
    cipher = resolve_cipher(key, sqlite=True, database_path=db)
    assert TokenCipher([key]).decrypt(cipher.encrypt("t", context=C), context=C) == ("t", False)
    with pytest.raises(InvalidToken):
        cipher.decrypt(file_cipher.encrypt("t", context=C), context=C)


def test_memory_database_gets_a_temporary_key(tmp_path) -> None:
    cipher = resolve_cipher(None, sqlite=True, database_path=None)
    assert cipher.decrypt(cipher.encrypt("t", context=C), context=C) == ("t", False)
    assert "key" not in repr(cipher).lower().replace("key(s)", "")
