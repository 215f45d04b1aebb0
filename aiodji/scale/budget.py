"""Pure decisions of the shared rate budget (no clock, no I/O): every function takes ``now``.

- :func:`fallback_rate`: while Redis is unreachable each process paces itself at its share of
  the last shared rate, split over the processes that were alive (their heartbeats) and cut
  as one congestion event would (the last rate may be a probe above the server's limit), so
  the organization's total stays within what the budget allowed.
- :func:`batch_size`: how many slots a busy process reserves in one round trip (a lease of
  the budget, as Google's Doorman leases capacity): one per request already waiting, at most
  ``MAX_BATCH`` and at most ``LEASE_SECONDS`` of the shared rate.
- :class:`Lease`: the slots a process reserved and has not handed out yet, in loop time.
"""

from __future__ import annotations

import collections

from aiodji.ratecontrol import BETA

__all__ = [
    "FALLBACK_RATE",
    "LEASE_SECONDS",
    "MAX_BATCH",
    "STALE",
    "Lease",
    "batch_size",
    "fallback_rate",
]

FALLBACK_RATE = 2.0  # req/s per process when no shared rate was ever seen
MAX_BATCH = 8  # slots reserved in one round trip
LEASE_SECONDS = 0.1  # ... and never more than this much of the shared rate
STALE = 0.05  # a slot this far in the past was missed: sending it now would bunch requests


def fallback_rate(last_rate: float | None, processes: int) -> float:
    """This process's req/s while Redis is away: its share of ``BETA`` × the last shared rate
    among the ``processes`` that were alive (at least itself), or ``FALLBACK_RATE`` if no rate
    was ever seen."""
    if not last_rate:
        return FALLBACK_RATE
    return BETA * last_rate / max(1, processes)


def batch_size(wanting: int, rate: float) -> int:
    """Slots to reserve for ``wanting`` requests waiting in this process at ``rate`` req/s:
    only for requests already waiting (nothing is taken on speculation), and a lease short
    enough that what a process holds is a small part of the organization's budget."""
    by_time = int(rate * LEASE_SECONDS)
    return max(1, min(wanting, MAX_BATCH, by_time))


class Lease:
    """Reserved slots not yet handed to a request: loop times, in order.

    ``reserved_us``: the budget's server time of the latest reservation, which a request
    reports with its 429 (the same-burst rule: a slot reserved before a cut but due after it
    is still of the burst the cut answered)."""

    __slots__ = ("end_us", "interval", "reserved_us", "slots")

    def __init__(self) -> None:
        self.slots: collections.deque[float] = collections.deque()
        self.reserved_us = 0
        self.end_us = 0  # the budget's ``tat`` after the latest reservation (a give-back key)
        self.interval = 0.0

    def fill(
        self, now: float, first: float, floor: float, interval: float, n: int, server_now_us: int
    ) -> None:
        """``n`` slots reserved at loop time ``now``: slot i goes at
        ``now + max(floor, first + i·interval)`` (seconds relative to the reservation)."""
        self.slots.clear()  # older slots were stale (take drops them) or handed out
        self.slots.extend(now + max(floor, first + i * interval) for i in range(n))
        self.reserved_us = server_now_us
        self.interval = interval

    def take(self, now: float) -> float | None:
        """The loop time of the next slot (drop the ones missed by more than ``STALE``)."""
        slots = self.slots
        while slots:
            at = slots.popleft()
            if at >= now - STALE:
                return at
        return None

    def unused(self, now: float) -> int:
        """Slots still ahead of ``now`` (what a process could give back)."""
        return sum(at > now for at in self.slots)
