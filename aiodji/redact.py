"""Masking of secrets that replies and arguments carry: stream keys in URLs, passwords, STS keys.

docs/explanation/api-notes.md#secrets: ``schema_option.url`` / ``bypass_option.url`` may hold RTMP
stream keys,
GB28181 ``device_password``, RTSP credentials, STS secrets. They are masked in reprs, logs and
CLI tables; the values themselves are kept intact for the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "SECRET_KEYS", "mask_mapping", "mask_url", "masked_repr", "redact_text"]

MASK = "***"
SECRET_KEYS = frozenset(
    {
        "password",
        "device_password",
        "access_key_secret",
        "security_token",
        "secret",
        "token",
        "x-user-token",
        "credentials",
    }
)


def mask_url(url: str | None) -> str | None:
    """``rtmp://user:pw@host/app/streamkey?sign=x`` → ``rtmp://user:***@host/app/***?***``.

    The last path segment of a stream URL is its stream key; user info and query are secrets too.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if not parts.scheme or not parts.netloc:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    path = parts.path
    if path.strip("/"):
        head, _, _ = path.rstrip("/").rpartition("/")
        path = f"{head}/{MASK}"
    query = MASK if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def mask_mapping(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``value`` with secret keys masked and URLs shortened to their non-secret part."""
    if value is None:
        return None
    out: dict[str, Any] = {}
    for key, item in value.items():
        lowered = key.lower()
        if lowered in SECRET_KEYS:
            out[key] = MASK
        elif lowered.endswith("url") and isinstance(item, str):
            out[key] = mask_url(item)
        elif isinstance(item, Mapping):
            out[key] = mask_mapping(item)
        else:
            out[key] = item
    return out


def masked_repr(value: Any) -> str:
    """``repr`` of a mapping with its secrets masked (for attrs ``field(repr=...)``)."""
    if isinstance(value, Mapping):
        return repr(mask_mapping(value))
    if isinstance(value, str):
        return repr(mask_url(value))
    return repr(value)


_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_SECRET_IN_TEXT = re.compile(
    r"(?i)\b("
    + "|".join(sorted(re.escape(k) for k in SECRET_KEYS))
    + r")(['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"
)


def redact_text(text: str) -> str:
    """Free text (a traceback, a message) with URL secrets and ``key=value`` secrets masked."""
    text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)) or MASK, text)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
