"""`make demo`'s program, small: it ends with every converter enabled and exits 0."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_the_headline_job() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiodji.demo",
            "--projects",
            "3",
            "--docks",
            "2",
            "--converters",
            "4",
            "--server-rate",
            "2000",
            "--rate",
            "1500",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "disable every converter: 6 will disable, 6 unchanged" in done.stdout
    assert "enable every converter: 12 will enable, 0 unchanged" in done.stdout
    assert "12 of 12 converters enabled at the end" in done.stdout
