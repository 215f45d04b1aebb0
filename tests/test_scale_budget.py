"""The shared budget's pure decisions in virtual time: the fallback share, batch sizes, the
lease of reserved slots (no clock, no Redis)."""

from __future__ import annotations

import pytest

from aiodji.ratecontrol import BETA
from aiodji.scale.budget import (
    FALLBACK_RATE,
    LEASE_SECONDS,
    MAX_BATCH,
    STALE,
    Lease,
    batch_size,
    fallback_rate,
)


def test_the_fallback_is_this_process_share_of_the_last_shared_rate() -> None:
    # cut as at a congestion event: the last rate may be a probe above the limit
    assert fallback_rate(60.0, 3) == pytest.approx(BETA * 20.0)
    assert fallback_rate(50.0, 1) == pytest.approx(BETA * 50.0)
    assert fallback_rate(50.0, 0) == pytest.approx(BETA * 50.0)  # no heartbeat seen: itself
    assert fallback_rate(None, 3) == FALLBACK_RATE  # never seen a rate
    # N processes falling back together stay within what the budget allowed
    assert sum(fallback_rate(48.0, 4) for _ in range(4)) <= 48.0


def test_a_batch_is_for_requests_already_waiting_and_a_short_lease() -> None:
    assert batch_size(1, 50.0) == 1  # not busy: one slot, as before
    assert batch_size(5, 50.0) == 5
    assert batch_size(100, 1000.0) == MAX_BATCH
    assert batch_size(100, 20.0) == int(20.0 * LEASE_SECONDS)  # a quarter second of budget
    assert batch_size(100, 1.0) == 1  # a slow budget: never nothing
    assert batch_size(0, 0.0) == 1  # the very first reservation: no rate known yet


def test_a_lease_hands_out_its_slots_in_order_and_drops_missed_ones() -> None:
    lease = Lease()
    # reserved at loop time 10.0: floor 0 (no pause), first slot 0.02 s ahead, 25 ms apart
    lease.fill(10.0, 0.02, 0.0, 0.025, 4, server_now_us=5_000_000)
    assert list(lease.slots) == pytest.approx([10.02, 10.045, 10.07, 10.095])
    assert lease.reserved_us == 5_000_000  # every slot was reserved then
    assert lease.take(10.0) == pytest.approx(10.02)
    assert lease.unused(10.05) == 2
    # the process stalled: the slot at 10.045 is missed by more than STALE, 10.07 is not
    assert lease.take(10.045 + STALE + 0.01) == pytest.approx(10.07)
    assert lease.take(20.0) is None and not lease.slots


def test_a_pause_floors_every_slot() -> None:
    lease = Lease()
    lease.fill(0.0, 0.9, 1.0, 0.1, 3, server_now_us=0)  # paused for 1 s; burst credit
    assert list(lease.slots) == pytest.approx([1.0, 1.0, 1.1])
