"""The controller's pure decisions, with a fake clock (plain floats): no I/O, no sleeping."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aiodji.controller import ItemBackoff, backoff_delay, jittered, plan_relist
from aiodji.controller.decide import projects_with_device_changes


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff_delay(n, 1.0, 10.0) for n in range(6)] == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff_delay(10_000, 1.0, 300.0) == 300.0


def test_an_item_that_keeps_failing_waits_without_blocking_others() -> None:
    b = ItemBackoff(base=2.0, cap=30.0)
    now = 100.0
    assert b.failed("a", now) == 2.0
    assert not b.ready("a", now + 1.9) and b.ready("a", now + 2.0)
    assert b.ready("b", now)  # others are not held back
    assert b.failed("a", now + 2.0) == 4.0
    assert b.backing_off(now + 3.0) == {"a": 3.0}
    b.succeeded("a")
    assert b.ready("a", now + 2.0) and b.failures == {}


def test_items_no_plan_asks_for_are_forgotten() -> None:
    b = ItemBackoff()
    b.failed("a", 0.0)
    b.failed("b", 0.0)
    b.forget_except(["b"])
    assert set(b.failures) == {"b"}


@given(st.floats(0.01, 1e4), st.floats(0.0, 1.0), st.floats(0.0, 0.999))
def test_jitter_stays_within_its_band(interval: float, jitter: float, u: float) -> None:
    assert interval <= jittered(interval, jitter, u) <= interval * (1 + jitter)


def test_full_relist_when_nothing_can_be_trusted() -> None:
    base = {
        "has_snapshot": True,
        "last_cycle_failed": False,
        "cycles_since_full": 0,
        "full_every": 10,
        "desired_changed": False,
    }
    assert not plan_relist(**base, changed_projects=["p"]).full  # type: ignore[arg-type]
    assert plan_relist(**base).projects == frozenset()  # type: ignore[arg-type]
    for key, value in (
        ("has_snapshot", False),
        ("last_cycle_failed", True),
        ("desired_changed", True),
        ("cycles_since_full", 9),
    ):
        assert plan_relist(**{**base, key: value}).full  # type: ignore[arg-type]


def test_device_changes_map_to_the_projects_of_their_converters() -> None:
    before = {"A": True, "B": True, "C": False}
    after = {"A": False, "B": True, "D": True}
    projects = {"A": ["p1"], "B": ["p2"], "C": ["p3"], "D": ["p4", "p1"]}
    assert projects_with_device_changes(before, after, projects) == {"p1", "p3", "p4"}
