"""FlightHub 2 business codes: the one table every module reads.

Each documented code (docs/explanation/api-notes.md#business-codes) has its meaning and, when it
means what
an HTTP status means, that status. The error classes (:mod:`aiodji.errors`), the retry rules
(:mod:`aiodji.retry`) and the fleet read their sets from here, so a code is described once.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BUSINESS_CODE_MEANINGS",
    "BUSINESS_CODE_STATUS",
    "CONVERTER_GONE_CODES",
    "DUPLICATE_NAME_CODE",
    "RATE_LIMIT_CODE",
    "TRANSIENT_CODES",
]

# code: (meaning, the HTTP status it stands for or None)
_TABLE: Final[dict[int, tuple[str, int | None]]] = {
    200401: ("invalid or expired token", 401),
    200403: ("project out of scope for this token", 403),
    200404: ("not found", 404),
    200500: ("internal error (often a bad parameter or a missing X-Project-Uuid)", None),
    210318: ("transient upstream error", 503),
    210429: ("rate limited", 429),
    210500: ("transient upstream error", 503),
    210504: ("upstream timeout", 504),
    228306: ("configuring stream forwarding failed", None),
    228307: ("configuring telemetry reporting failed", None),
    228308: ("regenerating organization key failed", None),
    228309: ("reading cloud-interconnect (Sync) config failed", None),
    233314: ("saving converter failed", None),
    233315: ("deleting converter failed", None),
    233316: ("reading converter list failed", None),
    233317: (
        "converter count over limit (the organization's converter quota, 20 documented)",
        None,
    ),
    213001: ("livestream error: device info lookup or network topology abnormal", None),
    213014: ("this camera cannot stream; check sn and camera parameters", None),
    213024: ("creating converter failed", None),
    213025: ("converter already exists (duplicate name)", None),
    213026: ("deleting converter failed", None),
    213027: ("querying converter list failed", None),
    213028: ("editing converter failed, or the push URL duplicates an existing converter's", None),
    213029: ("converter not found", None),
    213050: ("bypass streaming not enabled", None),
    213051: ("bypass streaming is closed", None),
    213052: ("pulling stream failed", None),
    213053: ("pushing stream failed", None),
    213054: ("duplicate push URL", None),
    213055: ("duplicate transcoding channel name", None),
    212056: ("converter does not exist (deleted, or wrong id)", None),
    212057: ("creating pull proxy failed", None),
    212058: ("pull timed out", None),
    212060: ("creating push proxy failed", None),
    212061: ("push target server refused the connection", None),
    212062: ("push timed out", None),
}

BUSINESS_CODE_MEANINGS: Final[dict[int, str]] = {code: row[0] for code, row in _TABLE.items()}
# Codes handled like an HTTP status: same retry decision, same exception class.
BUSINESS_CODE_STATUS: Final[dict[int, int]] = {
    code: status for code, (_, status) in _TABLE.items() if status is not None
}
RATE_LIMIT_CODE: Final = 210429
# Transient: the status-like codes that stand for a 5xx (retried like one).
TRANSIENT_CODES: Final = frozenset(c for c, s in BUSINESS_CODE_STATUS.items() if s >= 500)
DUPLICATE_NAME_CODE: Final = 213025
# This deployment does not offer stream forwarding (public cloud): "not available", not a failure.
NOT_DEPLOYED_CODES: Final = frozenset({213050, 213051})
# The converter is not there (any more): a delete of it is already done.
CONVERTER_GONE_CODES: Final = frozenset({213029, 212056})
