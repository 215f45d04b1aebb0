"""Secret-bearing fields of shard messages, sealed (Fernet: AES-128-CBC + HMAC-SHA256).

A create's push URL (its last path segment is a stream key) and its ``schema_option`` travel
through Redis, and Redis keeps them on disk (its AOF). The enqueuer seals them with a key it
shares with the workers; Redis only ever holds ciphertext. The key is a Fernet key
(``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
in ``AIODJI_QUEUE_KEY``, or in the file named by ``AIODJI_QUEUE_KEY_FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from aiodji.config import ConfigError

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "Sealer", "load_sealer", "require_sealer"]

KEY_ENV = "AIODJI_QUEUE_KEY"
KEY_FILE_ENV = "AIODJI_QUEUE_KEY_FILE"
NO_KEY = (
    f"creates carry push URLs (stream keys): queue mode seals them with a key shared by the "
    f"enqueuer and the workers; set {KEY_ENV} or {KEY_FILE_ENV} (see docs/how-to/scale-out.md)"
)


class Sealer:
    """Seals and opens JSON-able values with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(key)
        except ValueError:
            # never echo the key
            raise ConfigError(
                f"{KEY_ENV}: not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def __repr__(self) -> str:
        return "Sealer(key=***)"

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(orjson.dumps(value)).decode()

    def open(self, sealed: str) -> Any:
        from cryptography.fernet import InvalidToken

        try:
            return orjson.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise ConfigError(
                "cannot open a shard's sealed fields: this worker's queue key differs from "
                "the enqueuer's"
            ) from None


def load_sealer(env: Mapping[str, str] | None = None) -> Sealer | None:
    """The key of ``AIODJI_QUEUE_KEY`` or ``AIODJI_QUEUE_KEY_FILE``; None when neither is set."""
    env = os.environ if env is None else env
    key = env.get(KEY_ENV, "").strip()
    path = env.get(KEY_FILE_ENV, "").strip()
    if not key and path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{KEY_FILE_ENV}: cannot read {path}: {type(exc).__name__}") from None
    return Sealer(key.encode()) if key else None


def require_sealer(sealer: Sealer | None) -> Sealer:
    if sealer is None:
        raise ConfigError(NO_KEY)
    return sealer
