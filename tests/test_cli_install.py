"""The access point is never guessed, tests stay out of $HOME,
the simulator on a busy port says so in one line, the installed command has its dependencies."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import aiodji
from aiodji.cli.running import default_journal

ROOT = Path(__file__).resolve().parent.parent


def test_explicit_region_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIODJI_BASE_URL", "https://env.example")
    assert aiodji.Client(token="t", region="us").base_url.endswith("-us.djigate.com")
    with pytest.raises(aiodji.ConfigError, match="unknown region"):
        aiodji.Client(token="t", region="mars")
    assert aiodji.Client(token="t").base_url == "https://env.example"
    monkeypatch.setenv("AIODJI_REGION", "eu")
    assert aiodji.Client(token="t", base_url="https://arg.example").base_url == (
        "https://arg.example"
    )


def test_no_access_point_is_a_clear_error() -> None:
    with pytest.raises(aiodji.ConfigError, match="no access point"):
        aiodji.Client(token="t")


def test_cli_without_an_access_point_exits_3(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env["AIODJI_TOKEN"] = "secret-token-value"
    proc = subprocess.run(
        [sys.executable, "-m", "aiodji.cli", "projects", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 3, proc.stderr
    assert "--base-url" in proc.stderr and "secret-token-value" not in proc.stderr


def test_tests_never_write_into_the_real_home(tmp_path: Path) -> None:
    home_state = Path(os.path.expanduser("~")) / ".local" / "state"
    assert default_journal().is_relative_to(tmp_path)
    assert not default_journal().is_relative_to(home_state)


def test_simulator_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "aiodji.sim", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(port) in proc.stderr and "Traceback" not in proc.stderr


def test_the_base_install_carries_the_cli_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("[")[0].strip() for d in project["dependencies"]}
    assert {"click", "rich"} <= names
    assert project["scripts"]["aiodji"] == "aiodji.cli:main"
