"""Authenticated encryption of free text at rest (AES-256-GCM from `cryptography`).

Each ciphertext is bound to its owner and field through the associated data, so a value copied
to another row or another person fails to decrypt. The key id in the header lets several keys be
readable at once, which is what key rotation needs.

The text is padded before it is sealed (format 2): its length is rounded up to a multiple of
PAD_BLOCK bytes, so a ciphertext's size does not tell "yes" from "no". Values sealed before
(format 1, unpadded) are still read, and `rotate-key` pads them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

VERSION = 2  # the format new values are sealed in: padded
UNPADDED = 1  # the format of values sealed before padding; still read
NONCE_SIZE = 12
KEY_ID_SIZE = 4
PAD_BLOCK = 32
PAD_MARK = 0x80


class InvalidKeyError(Exception):
    """A key that cannot be used."""


class DecryptionError(Exception):
    """A value that does not decrypt with any known key for its owner and field."""


def key_id(key: bytes) -> bytes:
    """A short, non-secret fingerprint of a key."""
    return hashlib.sha256(b"trust-bot-key-id" + key).digest()[:KEY_ID_SIZE]


def decode_key(text: str) -> bytes:
    """Decode a urlsafe-base64 256-bit key."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except (ValueError, TypeError) as error:
        raise InvalidKeyError("the encryption key is not valid base64") from error
    if len(key) != 32:
        raise InvalidKeyError("the encryption key must be 32 bytes (44 base64 characters)")
    return key


def encode_key(key: bytes) -> str:
    """Encode a key for a file or an environment variable."""
    return base64.urlsafe_b64encode(key).decode()


def generate_key() -> bytes:
    """A new random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def write_key_file(path: Path, key: bytes) -> None:
    """Write a key to a new file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(encode_key(key) + "\n")


def load_or_create_key(*, env_key: str | None, key_file: Path | None, default_file: Path) -> bytes:
    """The configured key; or the one in the default file, generated there on first run."""
    if env_key:
        return decode_key(env_key)
    if key_file is not None:
        return decode_key(key_file.read_text())
    if default_file.exists():
        return decode_key(default_file.read_text())
    key = generate_key()
    write_key_file(default_file, key)
    logger.warning("Generated a new encryption key in %s (mode 0600); back it up.", default_file)
    return key


def pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """The bytes, a 0x80 mark, then zeros up to a multiple of `block` (ISO/IEC 7816-4)."""
    marked = data + bytes([PAD_MARK])
    return marked + bytes(-len(marked) % block)


def unpad(data: bytes) -> bytes:
    """The bytes `pad` was given (the zeros and the mark after them taken off)."""
    stripped = data.rstrip(b"\0")
    if not stripped or stripped[-1] != PAD_MARK:
        raise DecryptionError("padding is damaged")
    return stripped[:-1]


def stored_key_id(blob: bytes) -> bytes:
    """The fingerprint of the key a stored value was sealed with (from its header)."""
    return bytes(blob[1 : 1 + KEY_ID_SIZE])


def answer_binding(key: str) -> str:
    """The field an answer's ciphertext is bound to (its prompt's key)."""
    return f"answer:{key}"


def session_binding(uid: str, field: str) -> str:
    """The field a session chart value is bound to (its row's uid and column: topic, role)."""
    return f"session:{uid}:{field}"


class Cipher:
    """Encrypts with the current key; decrypts with any key it knows."""

    def __init__(self, current: bytes, older: Iterable[bytes] = ()) -> None:
        self._current_id = key_id(current)
        self._keys = {key_id(k): AESGCM(k) for k in (*older, current)}

    @property
    def current_key_id(self) -> bytes:
        """The fingerprint of the key new values are encrypted with."""
        return self._current_id

    @property
    def key_ids(self) -> frozenset[bytes]:
        """The fingerprints of every key this cipher can decrypt with."""
        return frozenset(self._keys)

    @staticmethod
    def _aad(version: int, owner: str, field: str) -> bytes:
        # The format is bound too: a padded value relabelled as unpadded does not decrypt.
        return f"v{version}|{owner}|{field}".encode()

    def encrypt(self, plaintext: str, *, owner: str, field: str) -> bytes:
        """Encrypt text for one owner and field (padded, so its length shows only roughly)."""
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._keys[self._current_id].encrypt(
            nonce, pad(plaintext.encode("utf-8")), self._aad(VERSION, owner, field)
        )
        return bytes([VERSION]) + self._current_id + nonce + sealed

    def decrypt(self, blob: bytes, *, owner: str, field: str) -> str:
        """Decrypt text that was encrypted for this owner and field (in either format)."""
        if len(blob) < 1 + KEY_ID_SIZE + NONCE_SIZE + 16 or blob[0] not in (VERSION, UNPADDED):
            raise DecryptionError("unknown ciphertext format")
        version = blob[0]
        kid = stored_key_id(blob)
        nonce = blob[1 + KEY_ID_SIZE : 1 + KEY_ID_SIZE + NONCE_SIZE]
        aead = self._keys.get(kid)
        if aead is None:
            raise DecryptionError("ciphertext made with an unknown key")
        try:
            plain = aead.decrypt(
                nonce, blob[1 + KEY_ID_SIZE + NONCE_SIZE :], self._aad(version, owner, field)
            )
        except Exception as error:  # InvalidTag: wrong owner, field or key
            raise DecryptionError("ciphertext does not belong here") from error
        if version == VERSION:
            plain = unpad(plain)
        return plain.decode("utf-8")

    def needs_rotation(self, blob: bytes) -> bool:
        """Whether a value was encrypted with an older key, or before values were padded."""
        return stored_key_id(blob) != self._current_id or blob[0] != VERSION
