"""A shard lease's decisions, pure: when to renew, when to retry a failed renewal, and whether
the holder may still act. No I/O and no clock of its own (times are passed in), so the rules
are tested in virtual time; :class:`~.runs.LeaseHolder` is the thin loop around them.

The lease is a Redis key that expires ``lease_seconds`` after it was last set. Its holder
knows only when it *sent* the last successful renewal, and the server's expiry starts later
than that, so ``sent_at + lease_seconds`` is a time the lease is surely still held. The holder
starts a write only while a safety margin (a third of the lease) remains before that time:
the margin is what an in-flight request may still take while the next runner (which must wait
for the key to expire, then re-plans against live state) gets ready.
"""

from __future__ import annotations

import attrs

__all__ = ["LeaseState", "may_act", "next_delay", "renewal_failed", "renewed"]

SAFETY = 1 / 3  # of the lease: no write starts in its last third
RENEW_EVERY = 1 / 3  # of the lease, while renewals succeed
FIRST_RETRY = 1 / 20  # of the lease: the first retry after a failed renewal, then doubling


@attrs.frozen
class LeaseState:
    """What the holder knows: its fencing token, until when it surely holds the lease, how
    many renewals failed in a row, and whether it learned that the lease is gone."""

    lease_seconds: float
    token: int
    valid_until: float
    failures: int = 0
    lost: bool = False

    @classmethod
    def acquired(cls, token: int, sent_at: float, lease_seconds: float) -> LeaseState:
        return cls(lease_seconds, token, sent_at + lease_seconds)


def renewed(state: LeaseState, sent_at: float, *, held: bool) -> LeaseState:
    """A renewal answered: ``held`` False means the key is gone or someone else's."""
    if not held or state.lost:
        return attrs.evolve(state, lost=True)
    return attrs.evolve(state, valid_until=sent_at + state.lease_seconds, failures=0)


def renewal_failed(state: LeaseState) -> LeaseState:
    """A renewal got no answer (Redis away): the lease may still be held, until valid_until."""
    return attrs.evolve(state, failures=state.failures + 1)


def may_act(state: LeaseState, now: float) -> bool:
    """Whether a write may start now: the lease is surely held for the safety margin still."""
    return not state.lost and now + state.lease_seconds * SAFETY < state.valid_until


def next_delay(state: LeaseState) -> float:
    """Seconds to the next renewal: a third of the lease after a success; after failures a
    short backoff (doubling, at most the regular interval) so that one lost reply or a Redis
    restart does not let the lease lapse."""
    regular = state.lease_seconds * RENEW_EVERY
    if state.failures == 0:
        return regular
    backoff: float = state.lease_seconds * FIRST_RETRY * 2.0 ** (state.failures - 1)
    return min(regular, backoff)
