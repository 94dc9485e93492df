"""Encryption of secrets at rest (Fernet, with key rotation through MultiFernet).

BOT_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts, all of them
decrypt, so an operator rotates by putting a new key first and keeping the old one until every
stored secret has been re-encrypted (`altegio-bot rotate-keys`, or the store as it reads them).

Every ciphertext is bound to a context naming what it belongs to (`account/T1/U1`): Fernet has
no associated data, so the context goes inside the authenticated plaintext, ahead of the secret,
and decryption checks it. A session copied onto another user's row then does not decrypt.
Ciphertexts written before binding existed hold the bare secret; they are read only when asked
for (`unbound_ok`), which the start-up upgrade does once to bind them (see keys.py).

On the embedded SQLite default with no key set, a key file is created beside the database so a
first start needs no setup; PostgreSQL is shared by several processes and hosts, where a
per-host key file would split the fleet, so there the key must be given.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import EncryptionKeyRequired, InvalidEncryptionKey

log = logging.getLogger(__name__)

__all__ = [
    "InvalidToken",
    "TokenCipher",
    "generate_key",
    "key_file_for",
    "load_or_create_key_file",
    "parse_keys",
    "resolve_cipher",
]


def generate_key() -> str:
    """A fresh Fernet key, as printed by `altegio-bot keygen`."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[bytes]:
    """Split a comma-separated key list, checking each is a Fernet key (never echoing one)."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise InvalidEncryptionKey(
            "BOT_ENCRYPTION_KEY is empty: set it to a key made with `altegio-bot keygen`."
        )
    parsed: list[bytes] = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            which = f"key number {position} of {len(keys)}" if len(keys) > 1 else "its key"
            raise InvalidEncryptionKey(
                f"BOT_ENCRYPTION_KEY is not valid ({which} is not a Fernet key, i.e. 32 bytes in "
                "url-safe base64): make one with `altegio-bot keygen`."
            ) from None
        parsed.append(key.encode("ascii"))
    return parsed


class TokenCipher:
    """Encrypts with the first key; decrypts with any, telling whether re-encryption is due."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernets = [Fernet(k) for k in keys]
        self._primary = self._fernets[0]
        self._all = MultiFernet(self._fernets)

    def __repr__(self) -> str:
        return f"TokenCipher(<{len(self._fernets)} key(s)>)"

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """`plaintext` under the first key, bound to `context` (what it belongs to)."""
        if "\x00" in context:
            raise ValueError("a context cannot contain NUL")
        data = _BOUND + context.encode("utf-8") + b"\x00" + plaintext.encode("utf-8")
        return self._primary.encrypt(data).decode("ascii")

    def decrypt(
        self, ciphertext: str, *, context: str, unbound_ok: bool = False
    ) -> tuple[str, bool]:
        """Return (plaintext, stale); stale means it should be encrypted again: it was not
        under the first key, or (with `unbound_ok`) it predates binding.

        Raises InvalidToken when no configured key opens it, or it belongs to another context.
        """
        try:
            token = ciphertext.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidToken from None
        try:
            data, stale = self._primary.decrypt(token), False
        except InvalidToken:
            if len(self._fernets) == 1:
                raise
            data, stale = self._all.decrypt(token), True
        if not data.startswith(_BOUND):
            if not unbound_ok:
                raise InvalidToken
            return data.decode("utf-8"), True
        bound_to, separator, plaintext = data[len(_BOUND) :].partition(b"\x00")
        if not separator or not hmac.compare_digest(bound_to, context.encode("utf-8")):
            raise InvalidToken
        return plaintext.decode("utf-8"), stale


# Marks a bound plaintext; a bare secret from before binding never starts with NUL.
_BOUND = b"\x00bound\x00"


def key_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".key")


def load_or_create_key_file(path: Path) -> tuple[str, bool]:
    """Read the key in `path`, creating it (mode 0600) if absent. Returns (key, created).

    Two processes starting at once on a fresh SQLite file must end up with the same key, so the
    key is written to a private temporary file and then hard-linked into place: the link either
    wins whole or fails because the other process's key is already there.
    """
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".altegio-key-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (generate_key() + "\n").encode("ascii"))
            os.fsync(fd)
            os.close(fd)
            fd = -1
            try:
                os.link(tmp_name, path)
                created = True
            except FileExistsError:
                pass
        finally:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
    warn_if_others_can_read(path, "The encryption key file", log)
    key = path.read_text(encoding="ascii").strip()
    try:
        parse_keys(key)
    except InvalidEncryptionKey:
        raise InvalidEncryptionKey(
            f"The encryption key file {path} does not hold a Fernet key: restore it from a backup, "
            "or set BOT_ENCRYPTION_KEY (stored Altegio sessions need the key they were saved with)."
        ) from None
    return key, created


def resolve_cipher(
    encryption_key: str | None, *, sqlite: bool, database_path: Path | None
) -> TokenCipher:
    """Pick the keys for this database: the setting, else (SQLite only) the key file."""
    if encryption_key and encryption_key.strip():
        keys = parse_keys(encryption_key)
        if database_path is not None and key_file_for(database_path).exists():
            log.info(
                "BOT_ENCRYPTION_KEY is set, so the key file %s is not used; add its key to the "
                "list to keep reading sessions saved under it.",
                key_file_for(database_path),
            )
        return TokenCipher(keys)
    if not sqlite:
        raise EncryptionKeyRequired(
            "BOT_ENCRYPTION_KEY is not set: PostgreSQL needs it so every process can read the "
            "stored Altegio sessions; make one with `altegio-bot keygen` and set it everywhere "
            "the bot runs."
        )
    if database_path is None:
        log.info("BOT_ENCRYPTION_KEY is not set; using a temporary key for the in-memory database.")
        return TokenCipher([generate_key()])
    key_path = key_file_for(database_path)
    key, created = load_or_create_key_file(key_path)
    if created:
        log.info(
            "BOT_ENCRYPTION_KEY is not set; created an encryption key in %s (keep it with the "
            "database: stored sessions cannot be read without it).",
            key_path,
        )
    else:
        log.info("BOT_ENCRYPTION_KEY is not set; using the encryption key in %s.", key_path)
    return TokenCipher([key])


def warn_if_others_can_read(path: Path, what: str, logger: logging.Logger) -> None:
    """A file holding secrets (the key file, the SQLite database) that others may read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "%s %s can be read by other users (mode %o); run `chmod 600 %s`.",
            what,
            path,
            mode,
            path,
        )
