"""Which shared budget a token belongs to: its organization, never the token itself."""

from __future__ import annotations

import hashlib

from aiodji.config import token_claims

__all__ = ["budget_key", "organization_of"]


def organization_of(token: str) -> str | None:
    """The ``organization_uuid`` claim of a JWT-shaped organization key
    (docs/explanation/api-notes.md#headers), read
    leniently without verifying anything; None when the token is not such a JWT."""
    org = (token_claims(token) or {}).get("organization_uuid")
    return org if isinstance(org, str) and org.strip() else None


def budget_key(token: str, key: str | None = None) -> str:
    """The Redis key of the budget: the explicit ``key``, else the token's organization, else a
    hash of the token (so one token = one budget, and the key never reveals the token)."""
    name = key or organization_of(token)
    if name is None:
        name = "token-" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return f"aiodji:budget:{name}"
