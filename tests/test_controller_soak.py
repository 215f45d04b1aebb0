"""Soak: a real ``aiodji controller run`` process fed broken desired files (not UTF-8, a
directory, deleted, invalid TOML, a BOM) and broken server replies (5xx, HTML, cut JSON,
resets, slow answers, error codes) for a few seconds, with drift made meanwhile. It must
still be running, log no traceback and no internal error, and converge once all is good;
SIGTERM ends it with 0. Bounded: about 5 s of faults, 30 s at most to converge."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_cli import CLI, env_for

from aiodji.sim import Simulator
from tests._controller import Running, get, until

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

GOOD = """
[[converters]]
projects = "all"
enabled = false

[[create]]
project = "Project 01"
name = "soak-new"
sn = "1581F001D0010001"
camera_index = "81-0-0"
url = "rtmp://media.example/live/SOAKKEY"
enabled = false
"""


def broken_files(path: Path) -> list[tuple[str, Callable[[], object]]]:
    """(name, a function that breaks ``path``), one per phase, in an order where every change
    of the file is one atomic step: the controller must never catch a half-made state (an empty
    file while it is written, a missing one between a delete and a create), which would be one
    more, real, rejection."""

    def write_bytes(data: bytes) -> Callable[[], object]:
        return lambda: put(path, data)

    return [
        ("utf16", write_bytes(GOOD.encode("utf-16-le"))),  # no BOM: refused
        ("random", write_bytes(bytes(range(256)) * 8)),
        ("bom", write_bytes(b"\xef\xbb\xbf[[converters]\n")),
        ("invalid-toml", write_bytes(b"[[converters]\nprojects =\n")),
        ("deleted", lambda: clear(path)),
        ("directory", lambda: path.mkdir()),
        ("deleted-again", lambda: clear(path)),
    ]


def put(path: Path, data: bytes) -> None:
    """Replace the file in one step (write beside it, then rename over it)."""
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


FAULTS: list[dict[str, float]] = [
    {"error_rate": 0.5},
    {"html_rate": 0.5},
    {"malformed_rate": 0.4},
    {"reset_before_rate": 0.3, "reset_after_rate": 0.3},
    {"reset_mid_body_rate": 0.4},
    {"business_error_rate": 0.4},
    {"slow_rate": 0.3, "slow_seconds": 0.3},
]


def converged(sim: Simulator) -> bool:
    names = [c.converter_name for c in sim.state.converters.values()]
    return names.count("soak-new") == 1 and not any(
        c.auto_push_stream for c in sim.state.converters.values()
    )


CYCLE_DONE = re.compile(r"cycle \d+ (ok|FAILED):")


def cycles_done(ctl: Running) -> int:
    return sum(bool(CYCLE_DONE.search(line)) for line in ctl.lines)


async def test_soak_broken_files_and_broken_replies_never_end_the_controller(
    sim: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "desired.toml"
    path.write_text(GOOD)
    argv = (*CLI, "--base-url", sim.url, "controller", "run", "-f", str(path))
    ctl = await Running.start(
        *argv, "--interval", "0.05", "--metrics-port", "0", env=env_for(sim, tmp_path)
    )
    try:
        base = await ctl.metrics_base()
        breakers = broken_files(path)
        for i, faults in enumerate(FAULTS):
            name, breaker = breakers[i % len(breakers)]
            rejected, cycles = ctl.count("rejected"), cycles_done(ctl)
            sim.faults.reset()
            for key, value in faults.items():
                setattr(sim.faults, key, value)
            for conv in list(sim.state.converters.values())[:3]:
                conv.auto_push_stream = True  # drift while it suffers
            breaker()  # each break differs from the last: one rejection logged for each
            assert await until(lambda n=rejected: ctl.count("rejected") > n, 10), name
            # and a whole cycle runs under this phase's faults (on the last good state)
            assert await until(lambda n=cycles: cycles_done(ctl) > n + 1, 10), faults
            assert ctl.running, f"ended during {name} / {faults}"
        sim.faults.reset()
        put(path, GOOD.encode())

        async def good_again() -> bool:
            status, _ = await get(base + "/readyz")
            return status == 200 and converged(sim)

        assert await until(good_again, 30)
        assert ctl.running
    finally:
        code, err = await ctl.stop()
    assert code == 0, err
    assert "Traceback" not in err and "internal error" not in err
    assert sim.token not in err and "SOAKKEY" not in err
    assert ctl.count("rejected") == len(FAULTS)  # every broken file seen and refused, once
