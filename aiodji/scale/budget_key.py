"""Which shared budget a token belongs to: its organization, never the token itself."""

from __future__ import annotations

import base64
import hashlib

import orjson

__all__ = ["budget_key", "organization_of"]


def organization_of(token: str) -> str | None:
    """The ``organization_uuid`` claim of a JWT-shaped organization key
    (docs/explanation/api-notes.md#headers), read
    leniently without verifying anything; None when the token is not such a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, orjson.JSONDecodeError):
        return None
    org = claims.get("organization_uuid") if isinstance(claims, dict) else None
    return org if isinstance(org, str) and org.strip() else None


def budget_key(token: str, key: str | None = None) -> str:
    """The Redis key of the budget: the explicit ``key``, else the token's organization, else a
    hash of the token (so one token = one budget, and the key never reveals the token)."""
    name = key or organization_of(token)
    if name is None:
        name = "token-" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return f"aiodji:budget:{name}"
