"""Encryption at rest: a ciphertext's size does not tell short answers apart, and values sealed
before padding (format 1) still open."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.crypto import Cipher, DecryptionError, generate_key, key_id

OWNER, FIELD = "7", "answer:checklist.1"


def unpadded(key: bytes, text: str, *, owner: str = OWNER, field: str = FIELD) -> bytes:
    """A value as the bot sealed it before padding: format 1, the text as it is."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), f"v1|{owner}|{field}".encode())
    return bytes([1]) + key_id(key) + nonce + sealed


def test_short_answers_have_one_size() -> None:
    cipher = Cipher(generate_key())
    sizes = {
        len(cipher.encrypt(text, owner=OWNER, field=FIELD))
        for text in ("yes", "no", "", "7", "maybe", "I don't know", "x" * 31)
    }
    assert len(sizes) == 1


def test_sizes_grow_in_steps_and_every_text_comes_back() -> None:
    cipher = Cipher(generate_key())
    texts = [
        "",
        "no",
        "x" * 31,
        "x" * 32,
        "x" * 100,
        "ends in zeros\x00\x00",
        "ends in a mark byte €",
        "\x80",
        "🌱 Vertrauen, доверие, ثقة",
    ]
    sizes = set()
    for text in texts:
        blob = cipher.encrypt(text, owner=OWNER, field=FIELD)
        sizes.add(len(blob))
        assert cipher.decrypt(blob, owner=OWNER, field=FIELD) == text
    header_and_tag = 1 + 4 + 12 + 16
    assert all((size - header_and_tag) % 32 == 0 for size in sizes)
    assert len(sizes) > 1


def test_a_value_sealed_before_padding_still_opens_and_is_due_for_rotation() -> None:
    key = generate_key()
    cipher = Cipher(key)
    old = unpadded(key, "yes")
    assert cipher.decrypt(old, owner=OWNER, field=FIELD) == "yes"
    assert cipher.needs_rotation(old)
    assert not cipher.needs_rotation(cipher.encrypt("yes", owner=OWNER, field=FIELD))
    # Still bound to its owner.
    with pytest.raises(DecryptionError):
        cipher.decrypt(old, owner="8", field=FIELD)


def test_a_padded_value_relabelled_as_unpadded_does_not_open() -> None:
    cipher = Cipher(generate_key())
    blob = cipher.encrypt("yes", owner=OWNER, field=FIELD)
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes([1]) + blob[1:], owner=OWNER, field=FIELD)
