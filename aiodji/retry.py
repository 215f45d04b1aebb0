"""Retry rules as pure functions (no I/O), unit-tested without a network.

docs/explanation/design.md#retries: retry connection errors, timeouts, 408, 429, 5xx and business
codes documented
as transient. GET/PUT/DELETE retry freely; POST only when the request surely never reached the
server (connect failure) or the server said it did not process it (429 / code 210429).
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import time

from attrs import frozen

from aiodji.codes import RATE_LIMIT_CODE, TRANSIENT_CODES
from aiodji.ratecontrol import RateSignal

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RATE_LIMIT_WAITS",
    "Decision",
    "Failure",
    "RetryBudget",
    "RetryPolicy",
    "backoff",
    "decide",
    "parse_retry_after",
    "should_retry",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Business codes documented as transient or rate limiting: aiodji.codes
# (docs/explanation/api-notes.md#business-codes).
# 429s do not consume the normal retries: the call waits, then goes again, up to this many
# times. max_retries=0 still means "no retry at all": the first 429 raises.
MAX_RATE_LIMIT_WAITS = 10
# A rate-limited reply without Retry-After that was only noise: retry soon (doubling per wait);
# the rate gate, not this delay, is what slows a congested Client down.
NOISE_RETRY_BASE = 0.05
# The longest Client-wide pause at saturation, whatever Retry-After says (the retry of the
# refused request itself waits the whole Retry-After).
MAX_CLIENT_PAUSE = 1.0


class Failure(enum.Enum):
    """How an attempt failed, as far as the retry decision cares."""

    CONNECT = "connect"  # never reached the server (DNS, refused, connect timeout)
    IO = "io"  # sent, but the reply was lost (reset, read timeout, cut body)
    STATUS = "status"  # an HTTP error status or an error business code arrived


@frozen
class RetryPolicy:
    """How often and how long to retry one call.

    ``max_retries``: retries after the first attempt. Delays grow ``backoff_base × 2ⁿ`` with up to
    25 % jitter, capped at ``backoff_max``; a rate-limited reply's ``Retry-After`` is waited
    instead, up to ``retry_after_max`` (beyond it the error comes at once).
    ``budget_ratio``/``budget_reserve``: the Client-wide retry budget (see
    :class:`RetryBudget`) that stops retry storms when the server is down; set on the Client
    (``with_options`` refuses to change them: every view spends the one budget).
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    budget_ratio: float = 0.2
    budget_reserve: float = 50.0


def should_retry(
    method: str,
    failure: Failure,
    *,
    status: int | None = None,
    code: int | None = None,
) -> bool:
    """Whether a failed attempt may be retried (without counting attempts or budget)."""
    idempotent = method.upper() in IDEMPOTENT_METHODS
    if failure is Failure.CONNECT:
        return True
    if failure is Failure.IO:
        return idempotent
    if status == 429 or code == RATE_LIMIT_CODE:
        return True  # the server refused to process it: safe for any method
    if status is not None and (status == 408 or status >= 500):
        return idempotent
    return code in TRANSIENT_CODES and idempotent


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0-based): base × 2ⁿ, capped, minus up to 25 %."""
    raw = min(policy.backoff_max, policy.backoff_base * (2.0 ** max(0, attempt)))
    jitter = (rng or random).random() * 0.25
    return raw * (1.0 - jitter)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns None when absent or unreadable; never negative.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class RetryBudget:
    """A Client-wide budget: each call deposits ``ratio`` tokens, each retry spends one.

    With the server down every call fails; once the budget (``reserve`` to start) is spent,
    calls fail at once with their first error instead of multiplying the load.
    """

    def __init__(self, ratio: float = 0.2, reserve: float = 50.0) -> None:
        self.ratio = ratio
        self.capacity = max(reserve, 1.0)
        self.tokens = self.capacity

    def deposit(self) -> None:
        self.tokens = min(self.capacity, self.tokens + self.ratio)

    def try_spend(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@frozen
class Decision:
    """What to do after one failed attempt.

    ``retry``: go again after ``delay`` seconds. ``pause``: hold the whole Client that long
    first (only at saturation). ``spends``: the retry counts against ``max_retries`` and the
    retry budget (a rate-limit wait counts against ``MAX_RATE_LIMIT_WAITS`` instead).
    """

    retry: bool
    delay: float = 0.0
    pause: float = 0.0
    spends: bool = False


GIVE_UP = Decision(retry=False)


def decide(
    method: str,
    failure: Failure,
    policy: RetryPolicy,
    *,
    retries: int,
    waits: int,
    budget_left: bool,
    retryable: bool = True,
    status: int | None = None,
    code: int | None = None,
    rate_limited: bool = False,
    retry_after: float | None = None,
    signal: RateSignal | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """The whole per-failure decision: retry or not, Client-wide pause or not, and the delay.

    ``retries``/``waits``: normal retries and rate-limit waits already made by this call.
    A rate-limited reply (429 / 210429; ``signal`` is the controller's reading of it) is retried
    for any method after its own ``Retry-After`` (never waiting beyond ``retry_after_max``: then
    the error comes at once). Only a saturation signal pauses the Client, for at most
    ``MAX_CLIENT_PAUSE`` and never longer than the server asked.
    """
    if rate_limited:
        too_long = retry_after is not None and retry_after > policy.retry_after_max
        if policy.max_retries <= 0 or waits >= MAX_RATE_LIMIT_WAITS or too_long:
            return GIVE_UP
        if retry_after is not None:
            delay = retry_after
        elif signal is None or signal is RateSignal.NOISE:
            delay = min(policy.backoff_max, NOISE_RETRY_BASE * 2.0**waits)
            delay *= 1.0 - (rng or random).random() * 0.25
        else:
            delay = backoff(waits, policy, rng)
        pause = 0.0
        if signal is RateSignal.SATURATION:
            pause = min(delay, MAX_CLIENT_PAUSE)
        return Decision(retry=True, delay=delay, pause=pause)
    if (
        not retryable
        or retries >= policy.max_retries
        or not budget_left
        or not should_retry(method, failure, status=status, code=code)
    ):
        return GIVE_UP
    # only a rate-limited reply carries a Retry-After (aiodji.envelope): the others back off
    return Decision(retry=True, delay=backoff(retries, policy, rng), spends=True)
