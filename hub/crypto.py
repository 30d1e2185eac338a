"""Encryption at rest for contact, health and treatment data (42 CFR Part 2, HIPAA security rule).

Values are sealed with AES-256-GCM under the first key of HUB_DATA_KEYS; every listed key can
open them, so a rotation puts a new key in front, runs `hub keys rotate` to re-seal every value,
and then drops the old key. A sealed value reads `v1:<key id>:<base64 nonce+ciphertext>`.
"""

import base64
import binascii
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from hub.settings import get_settings

_PREFIX = "v1"


class KeyRingError(ValueError):
    """HUB_DATA_KEYS is malformed, or a value was sealed under a key no longer listed."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str) -> "KeyRing":
        keys: list[tuple[str, bytes]] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep or not key_id.isalnum():
                raise KeyRingError("each data key reads id:base64key with an alphanumeric id")
            if key_id in (known for known, _ in keys):
                # Two keys under one id would make it ambiguous which one opens a value.
                raise KeyRingError(f"data key id {key_id} is listed twice")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise KeyRingError(f"data key {key_id} is not valid base64") from None
            if len(key) != 32:
                raise KeyRingError(f"data key {key_id} is not 32 bytes")
            keys.append((key_id, key))
        if not keys:
            raise KeyRingError("HUB_DATA_KEYS lists no key")
        return cls(tuple(keys))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def seal(self, plaintext: str, associated: bytes = b"") -> str:
        key_id, key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated or None)
        return f"{_PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, associated: bytes = b"") -> str:
        prefix, key_id, encoded = token.split(":", 2)
        if prefix != _PREFIX:
            raise KeyRingError("unknown sealed-value format")
        key = dict(self.keys).get(key_id)
        if key is None:
            raise KeyRingError(f"no data key {key_id} in HUB_DATA_KEYS")
        raw = base64.b64decode(encoded)
        return AESGCM(key).decrypt(raw[:12], raw[12:], associated or None).decode()

    def sealed_with_current(self, token: str) -> bool:
        return token.split(":", 2)[1] == self.current_id


@lru_cache
def key_ring() -> KeyRing:
    keys = get_settings().data_keys
    assert keys is not None  # Settings refuses to start without them
    return KeyRing.parse(keys.get_secret_value())


class EncryptedText(TypeDecorator[str]):
    """A text column stored sealed; the program only ever sees plaintext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else key_ring().seal(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else key_ring().open(value)


def new_data_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def new_signing_key() -> str:
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(seed).decode()


def generate_environment() -> dict[str, str]:
    """A fresh set of the secrets the hub needs, as environment variables."""
    return {
        "HUB_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "HUB_DATA_KEYS": f"k1:{new_data_key()}",
        "HUB_LOG_SIGNING_KEY": new_signing_key(),
    }
