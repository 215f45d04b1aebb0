"""The adaptive rate controller: pure maths, every decision takes ``now`` (no clock, no I/O).

FlightHub 2 publishes no rate limit (docs/explanation/api-notes.md#rate-limits) and its budget is
shared with the web
app, other integrations and other processes, and gateways shed load at random. So a 429 (or
HTTP 200 with code 210429) is a *congestion signal*, not a measurement of the limit:

* **Noise vs congestion.** Each rate-limited reply is counted in a short sliding window
  (``WINDOW`` seconds). Only when at least ``MIN_LIMITED`` of them *and* ``CONGESTION_SHARE`` of
  the replies in the window were rate limited is it a congestion event; an isolated 429 among
  many accepted replies is noise (retried, nothing else). Replies to requests sent before the
  last event are the same burst: ignored. ``SATURATION_SHARE`` or more rate limited means the
  server is saturated: the caller may pause the whole Client (bounded, see :mod:`aiodji.retry`).
* **Discovery.** No rate until the first congestion event: in-flight requests start at
  ``SLOW_START`` and grow by one per accepted reply (TCP slow start), so few are in flight
  when the first 429 arrives.
* **Decrease.** At an event, ``ceiling`` (CUBIC's W_max) = the rate the server accepted over
  the window (at most the gate's rate), and the rate drops to ``BETA`` × ceiling.
* **Recovery (CUBIC).** Without a new event the rate follows ``ceiling + C·(t − K)³`` with
  ``t`` the time since the event and ``K = ∛(ceiling·(1−BETA)/C)``: back to the ceiling in K
  (1.6 s from 40 req/s, 2.2 s from 100, 4.6 s from 1,000), flat around it (where a steady
  limit sits), then convex growth past it: 40 → 200 req/s in ~5 s. ``C`` is absolute, as in
  CUBIC, so Clients sharing one bucket grow alike and converge to fair shares.
  The rate never exceeds ``2 ×`` what was sent over the window (+ ``HEADROOM``) above the
  ceiling, so an idle Client does not bank a huge rate.
* **Floor.** The rate is never below ``MIN_RATE``; growth needs no new evidence, so any low rate
  climbs back within seconds unless 429s keep coming.

The seam for other gates (e.g. a Redis-shared limiter): construct ``RateController`` with the
configured ``rate`` (fixed, kept exact) or None (adaptive); call :meth:`RateController.on_success`
and :meth:`RateController.on_rate_limited` with the loop clock and the request's admission time;
read :meth:`RateController.rate` at each admission (None = unthrottled) and
:attr:`RateController.window` (in-flight cap during discovery).
"""

from __future__ import annotations

import enum
import math

__all__ = ["RateController", "RateMode", "RateSignal"]

SLOW_START = 4
BETA = 0.8  # multiplicative decrease at a congestion event
CUBIC_C = 2.0  # CUBIC's constant, req/s per s³ (absolute: equal growth for sharing Clients)
SLOT = 0.1  # seconds per counting slot
SLOTS = 5  # the window: SLOTS × SLOT seconds
WINDOW = SLOT * SLOTS
MIN_LIMITED = 3  # rate-limited replies in the window before anything counts as congestion
CONGESTION_SHARE = 0.08  # ... and their share of the replies in the window
SATURATION_SHARE = 0.5  # most replies refused: the server is saturated
MIN_RATE = 1.0  # the floor (requests/s)
HEADROOM = 10.0  # requests/s the rate may run ahead of twice the sent rate
MAX_RATE = 1e6


class RateSignal(enum.Enum):
    """What one rate-limited reply meant to the controller."""

    NOISE = "noise"  # isolated, or from a burst already counted: retry, nothing else
    CONGESTION = "congestion"  # a congestion event: the rate was cut
    SATURATION = "saturation"  # a congestion event with most replies refused


class RateMode(enum.Enum):
    FIXED = "fixed"  # rate_limit= configured: exact, never adapted
    UNLIMITED = "unlimited"  # no rate, adaptation off
    DISCOVERY = "discovery"  # adaptive, no congestion seen yet: slow start, no rate gate
    ADAPTIVE = "adaptive"  # adaptive with a rate gate (CUBIC)


class RateController:
    """Rate decisions from reply feedback; drive it with any clock (tests: a fake one)."""

    __slots__ = (
        "_accepted",
        "_first_reply",
        "_k",
        "_limited",
        "_replies",
        "_slot",
        "ceiling",
        "congestion_events",
        "event_at",
        "fixed_rate",
        "max_window",
        "mode",
        "noise_events",
        "rate_limited",
        "saturation_events",
        "window",
    )

    def __init__(
        self, max_window: int, rate: float | None = None, *, adaptive: bool = True
    ) -> None:
        self.fixed_rate = rate
        self.max_window = max_window
        if rate is not None:
            self.mode = RateMode.FIXED
        else:
            self.mode = RateMode.DISCOVERY if adaptive else RateMode.UNLIMITED
        self.window = SLOW_START if self.mode is RateMode.DISCOVERY else max_window
        self.ceiling: float | None = None
        self._k = 0.0  # CUBIC's K: seconds from an event back to the ceiling
        self.event_at = -math.inf  # loop time of the last congestion event
        self.rate_limited = 0  # every rate-limited reply reported
        self.congestion_events = 0
        self.saturation_events = 0
        self.noise_events = 0
        # per-slot counters, a ring of SLOTS; _slot is the absolute index of the newest
        self._accepted = [0] * SLOTS
        self._limited = [0] * SLOTS
        self._replies = [0] * SLOTS
        self._slot = 0
        self._first_reply: float | None = None

    # -- the rate ---------------------------------------------------------------------------
    def rate(self, now: float) -> float | None:
        """The gate's rate at ``now`` (requests/s), or None for no rate gate."""
        mode = self.mode
        if mode is RateMode.FIXED:
            return self.fixed_rate
        if mode is not RateMode.ADAPTIVE:
            return None
        ceiling = self.ceiling or MIN_RATE
        t = now - self.event_at - self._k
        cubic = ceiling + CUBIC_C * t * t * t
        if cubic > ceiling:
            # past the ceiling: no faster than twice what was actually sent lately (plus a
            # little, so few replies in the window at a low rate do not pin it there)
            cap = max(ceiling, 2.0 * self._sent_rate(now) + HEADROOM)
            cubic = min(cubic, cap, MAX_RATE)
        return max(MIN_RATE, cubic)

    # -- feedback ---------------------------------------------------------------------------
    def on_success(self, now: float) -> None:
        """A reply was accepted (not rate limited)."""
        if self.mode is RateMode.FIXED or self.mode is RateMode.UNLIMITED:
            return
        i = self._advance(now)
        self._accepted[i] += 1
        self._replies[i] += 1
        if self.window < self.max_window:
            self.window += 1  # slow start

    def on_rate_limited(self, now: float, sent_at: float) -> RateSignal:
        """A reply was rate limited; ``sent_at`` is when its request was admitted."""
        self.rate_limited += 1
        if sent_at < self.event_at:
            self.noise_events += 1
            return RateSignal.NOISE  # sent before the last event: the same burst
        i = self._advance(now)
        self._limited[i] += 1
        self._replies[i] += 1
        limited = sum(self._limited)
        replies = sum(self._replies)
        share = limited / replies
        if limited < MIN_LIMITED or share < CONGESTION_SHARE:
            self.noise_events += 1
            return RateSignal.NOISE
        saturated = share >= SATURATION_SHARE
        self._congestion(now)
        if saturated:
            self.saturation_events += 1
            return RateSignal.SATURATION
        return RateSignal.CONGESTION

    # -- internals --------------------------------------------------------------------------
    def _congestion(self, now: float) -> None:
        self.congestion_events += 1
        accepted = sum(self._accepted)
        for i in range(SLOTS):
            self._limited[i] = 0  # the next event needs fresh evidence
        if self.mode is RateMode.FIXED or self.mode is RateMode.UNLIMITED:
            self.event_at = now
            return
        measured = accepted / self._span(now)
        if self.mode is RateMode.DISCOVERY:
            if not accepted:
                # nothing accepted (the budget is spent elsewhere): no rate to learn from;
                # Retry-After paces the retries, slow start begins again
                self.window = SLOW_START
                self.event_at = now
                return
            self.mode = RateMode.ADAPTIVE
            self.window = self.max_window  # the rate gate takes over
            ceiling = measured
        else:
            current = self.rate(now) or MIN_RATE
            ceiling = min(current, measured) if accepted else current
        self.ceiling = max(MIN_RATE, ceiling)
        self._k = math.cbrt(self.ceiling * (1.0 - BETA) / CUBIC_C)
        self.event_at = now

    def _sent_rate(self, now: float) -> float:
        self._advance(now)
        return sum(self._replies) / self._span(now)

    def _span(self, now: float) -> float:
        """Seconds the ring covers at ``now`` (the newest slot is only partly over)."""
        first = self._first_reply
        since = now - first if first is not None else 0.0
        covered = now - (self._slot - SLOTS + 1) * SLOT
        return max(SLOT / 2, min(covered, since))

    def _advance(self, now: float) -> int:
        """Move the ring to ``now``'s slot (zeroing slots that fell out); return its index."""
        if self._first_reply is None:
            self._first_reply = now
        slot = int(now / SLOT)
        gap = slot - self._slot
        if gap > 0:
            for k in range(1, min(gap, SLOTS) + 1):
                j = (self._slot + k) % SLOTS
                self._accepted[j] = self._limited[j] = self._replies[j] = 0
            self._slot = slot
        return self._slot % SLOTS
