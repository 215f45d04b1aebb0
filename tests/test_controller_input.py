"""A long-running controller never exits on input: a desired file it cannot use (not UTF-8, a
directory, unreadable, deleted, invalid TOML) — at start or on reload — is logged once and
refused; an unexpected exception in one pass is logged and the loop goes on.

Cycles are driven directly (``await rec.cycle()``): no sleeping, no timing asserted."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import aiodji
from aiodji.controller import Reconciler
from aiodji.controller.source import file_stamp, should_read
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

GOOD = "[[converters]]\nprojects = 'all'\nenabled = false\n"


def utf16(path: Path) -> None:
    path.write_bytes(GOOD.encode("utf-16-le"))  # UTF-16 without a BOM (one with a BOM is decoded)


def random_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 4)


def bom_and_bad_toml(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf[[converters]\n")


def a_directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def unreadable(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to(path)  # a symlink loop: stat and open fail (ELOOP), even for root


def deleted(path: Path) -> None:
    path.unlink(missing_ok=True)


def invalid_toml(path: Path) -> None:
    path.write_text("[[converters]\nprojects = \n")


def bad_rule(path: Path) -> None:
    path.write_text("[[converters]]\nenabled = 'maybe'\n")


BROKEN: dict[str, Callable[[Path], None]] = {
    "utf16": utf16,
    "random-bytes": random_bytes,
    "bom": bom_and_bad_toml,
    "directory": a_directory,
    "unreadable": unreadable,
    "deleted": deleted,
    "invalid-toml": invalid_toml,
    "bad-rule": bad_rule,
}


def restore(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        path.rmdir()
    path.write_text(GOOD)


def enabled_count(sim: Simulator) -> int:
    return sum(c.auto_push_stream for c in sim.state.converters.values())


def rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]


@pytest.mark.parametrize("breaker", BROKEN.values(), ids=BROKEN.keys())
async def test_a_broken_file_at_start_keeps_the_controller_up_then_a_good_one_converges(
    sim: Simulator,
    dji: aiodji.Client,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    breaker: Callable[[Path], None],
) -> None:
    path = tmp_path / "desired.toml"
    path.write_text(GOOD)
    breaker(path)
    before = enabled_count(sim)
    rec = Reconciler(dji.fleet, path)
    with caplog.at_level("ERROR", logger="aiodji.controller"):
        reports = [await rec.cycle() for _ in range(3)]
    assert not any(r.ok for r in reports)
    assert all(r.error == "no valid desired file" for r in reports)
    assert enabled_count(sim) == before  # nothing written without a desired state
    assert len(rejections(caplog)) == 1  # logged once, not once per cycle
    assert "no good one yet" in rejections(caplog)[0]
    restore(path)
    report = await rec.cycle()
    assert report.ok and report.applied == before and enabled_count(sim) == 0


@pytest.mark.parametrize("breaker", BROKEN.values(), ids=BROKEN.keys())
async def test_a_broken_file_on_reload_keeps_the_last_good_one(
    sim: Simulator,
    dji: aiodji.Client,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    breaker: Callable[[Path], None],
) -> None:
    path = tmp_path / "desired.toml"
    path.write_text(GOOD)
    rec = Reconciler(dji.fleet, path, full_relist_every=1)
    assert (await rec.cycle()).ok and enabled_count(sim) == 0
    breaker(path)  # no SIGHUP: the changed stamp is enough
    next(iter(sim.state.converters.values())).auto_push_stream = True  # drift meanwhile
    with caplog.at_level("ERROR", logger="aiodji.controller"):
        reports = [await rec.cycle() for _ in range(3)]
        rec.request_reload()  # SIGHUP on the same broken file: the same rejection, not news
        reports.append(await rec.cycle())
    assert all(r.ok for r in reports) and enabled_count(sim) == 0  # the last good state holds
    assert len(rejections(caplog)) == 1
    assert "keeping the last good one" in rejections(caplog)[0]


async def test_an_unexpected_exception_in_a_pass_is_logged_and_the_loop_goes_on(
    sim: Simulator,
    dji: aiodji.Client,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "desired.toml"
    path.write_text(GOOD)
    rec = Reconciler(dji.fleet, path)
    real = dji.fleet.projects
    calls = 0

    async def flaky(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            # a bug of ours whose message carries secrets
            raise KeyError(f"token={sim.token} url=rtmp://h/live/STREAMKEY1")
        return await real()

    monkeypatch.setattr(dji.fleet, "projects", flaky)
    with caplog.at_level("DEBUG", logger="aiodji.controller"):
        first = await rec.cycle()
    assert not first.ok and first.error == "internal error: KeyError"
    assert "unexpected KeyError" in caplog.text
    for secret in (sim.token, "STREAMKEY1"):  # redacted, in the line and the traceback
        assert secret not in caplog.text
    second = await rec.cycle()
    assert second.ok and second.full_relist and enabled_count(sim) == 0


def test_should_read_while_there_is_no_good_state_even_with_the_same_stamp() -> None:
    stamp = (1, 2, 3)
    assert should_read(forced=False, stamp=stamp, last_stamp=stamp, have_good=False)
    assert not should_read(forced=False, stamp=stamp, last_stamp=stamp, have_good=True)
    assert should_read(forced=False, stamp=None, last_stamp=stamp, have_good=True)
    assert should_read(forced=True, stamp=stamp, last_stamp=stamp, have_good=True)


def test_file_stamp_of_a_missing_or_looping_path_is_none(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    assert file_stamp(loop) is None and file_stamp(tmp_path / "nope") is None
