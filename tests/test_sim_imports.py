"""The simulator's route modules depend on the envelope kit, never on the app that mounts them."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import aiodji.sim.routes

# ``aiodji.sim/__init__`` imports the Simulator (server → app) on purpose, so the probe puts a
# bare package in its place: what is then imported is what the kit and the routes pull in.
_PROBE = """
import importlib, pathlib, sys, types
import aiodji
pkg = types.ModuleType("aiodji.sim")
pkg.__path__ = [str(pathlib.Path(aiodji.__file__).parent / "sim")]
sys.modules["aiodji.sim"] = pkg
for name in sys.argv[1:]:
    importlib.import_module(name)
    if "aiodji.sim.app" in sys.modules:
        print(name)
        break
"""


def test_kit_and_routes_import_without_the_app() -> None:
    areas = [
        f"aiodji.sim.routes.{m.name}" for m in pkgutil.iter_modules(aiodji.sim.routes.__path__)
    ]
    assert len(areas) >= 10
    modules = ["aiodji.sim.envelope", "aiodji.sim.routes", *areas]
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True
    )
    assert probe.stdout == "", f"imports aiodji.sim.app: {probe.stdout.strip()}"


def test_app_mounts_the_routes_at_import() -> None:
    # the app imports the routes at module level now that nothing imports the app back
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, aiodji.sim.app; print('aiodji.sim.routes' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "True"
