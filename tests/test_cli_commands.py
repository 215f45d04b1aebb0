"""The real ``aiodji`` entry point against the simulator — every operation, output
formats, exit codes, rails, profiles, completion."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

CLI = [sys.executable, "-m", "aiodji.cli"]
PUT = ("PUT", "/openapi/v0.1/live-stream/converter/{converter_id}")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(projects=2, docks_per_project=2, converters_per_project=3) as sim:
        yield sim


async def run(
    sim: Simulator,
    tmp_path: Path,
    *args: str,
    token: str | None = None,
    base_url: str | None = None,
    columns: int = 200,
    extra_env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(
        AIODJI_TOKEN=sim.token if token is None else token,
        AIODJI_BASE_URL=base_url or sim.url,
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        COLUMNS=str(columns),
        NO_COLOR="1",
        **(extra_env or {}),
    )
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    assert sim.token not in out.decode() + err.decode()
    return proc.returncode, out.decode(), err.decode()


def jl(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in text.splitlines() if x.strip()]


def first_project(sim: Simulator) -> Any:
    return next(iter(sim.state.projects.values()))


async def test_call_and_schema_cover_the_operation_table(sim: Simulator, tmp_path: Path) -> None:
    code, out, _ = await run(sim, tmp_path, "schema")
    everything = orjson.loads(out)
    assert code == 0 and "converters.create" in everything
    assert everything["converters.delete"]["risk"] == "dangerous"
    code, out, _ = await run(sim, tmp_path, "schema", "devices.state")
    assert orjson.loads(out)["required"] == ["sn"]
    code, out, _ = await run(sim, tmp_path, "call", "system.status", "-o", "json")
    assert code == 0 and isinstance(orjson.loads(out), dict)
    project = first_project(sim)
    code, out, _ = await run(
        sim, tmp_path, "call", "converters.list", "--project", project.name, "-o", "jsonl"
    )
    assert code == 0 and len(jl(out)) == 3
    code, out, _ = await run(sim, tmp_path, "converters", "set-enabled", "--project", project.uuid,
                             "--arg", "converter_id=x", "--arg", "enabled=maybe")  # fmt: skip
    assert code == 2 and "enabled" in out + _


async def test_dangerous_needs_yes_and_dry_run_sends_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    project = first_project(sim)
    cid = next(iter(sim.state.converters))
    args = ("call", "converters.delete", "--project", project.uuid, "--arg", f"converter_id={cid}")
    code, _, err = await run(sim, tmp_path, *args)
    assert code == 2 and "--yes" in err and cid in sim.state.converters
    code, out, _ = await run(sim, tmp_path, *args, "--dry-run")
    assert code == 0 and jl(out)[0]["method"] == "DELETE" and cid in sim.state.converters


async def test_exit_codes_by_error_class(sim: Simulator, tmp_path: Path) -> None:
    code, _, _ = await run(sim, tmp_path, "projects", "list", token="wrong-token")
    assert code == 4
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, _, _ = await run(sim, tmp_path, "projects", "list", base_url=closed)
    assert code == 7
    code, out, _ = await run(sim, tmp_path, "converters", "get", "no-such-id", "--json")
    assert code == 5 and jl(out)[-1]["type"] == "error" and jl(out)[-1]["exit_code"] == 5
    code, _, _ = await run(sim, tmp_path, "converters", "update", "x", "--name", "y")
    assert code == 5
    code, out, _ = await run(sim, tmp_path, "converters", "list", "--json")  # usage, as JSON
    assert code == 2 and jl(out)[-1]["type"] == "error"


async def test_output_formats_and_global_options_after_the_subcommand(
    sim: Simulator, tmp_path: Path
) -> None:
    code, out, _ = await run(sim, tmp_path, "converters", "list", "--all-projects", "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6 and rows[0]["project"].startswith("Project")
    assert {r["converter_id"] for r in rows} == set(sim.state.converters)
    code, out, _ = await run(
        sim, tmp_path, "converters", "list", "--all-projects", "-o", "tsv", "--columns", "sn,camera"
    )
    assert out.splitlines()[0] == "sn\tcamera"
    code, out, _ = await run(sim, tmp_path, "projects", "list")  # a pipe: JSON lines
    assert code == 0 and all(r["type"] == "project" for r in jl(out))
    code, _, err = await run(sim, tmp_path, "projects", "list", "--columns", "nope")
    assert code == 2 and "nope" in err


async def test_80_column_table_never_wraps_ids(sim: Simulator, tmp_path: Path) -> None:
    code, out, _ = await run(
        sim, tmp_path, "-o", "table", "converters", "list", "--all-projects", columns=80
    )
    lines = out.splitlines()
    assert code == 0 and all(len(line) <= 80 for line in lines)
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 6  # one line per converter: nothing wrapped
    assert all(line.endswith("│") for line in body)  # nothing cropped at the right edge either
    assert all(cid in out for cid in sim.state.converters)  # ids whole
    code, out, _ = await run(sim, tmp_path, "-o", "table", "--wide", "converters", "list",
                             "--all-projects", columns=80)  # fmt: skip
    assert all(cid in out for cid in sim.state.converters)


async def test_checks_before_any_change(sim: Simulator, tmp_path: Path) -> None:
    project = first_project(sim)
    pair = sim.state.pairs[project.uuid][0]
    create = ("converters", "create", "--project", project.name, "--sn", pair.drone.sn,
              "--camera", "81-0-0")  # fmt: skip
    code, _, err = await run(sim, tmp_path, *create, "--name", "n1", "--url", "http://x/y",
                             "--dry-run")  # fmt: skip
    assert code == 2 and "rtmp://" in err
    code, out, _ = await run(sim, tmp_path, "-o", "table", *create, "--name", "n1",
                             "--url", "rtmp://m.test/live/k")  # fmt: skip
    made = sim.state.converter_by_name("n1")
    assert code == 0 and made is not None and made.converter_id in out
    code, _, err = await run(sim, tmp_path, *create, "--name", "n1", "--url", "rtmp://m/l/k")
    assert code == 6 and made.converter_id in err
    code, _, err = await run(sim, tmp_path, "converters", "enable", "--project", "Nope *")
    assert code == 5 and "matches no" in err
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing\n")
    code, _, _ = await run(sim, tmp_path, "converters", "apply", "-f", str(empty))
    assert code == 2
    puts = sim.stats.count(*PUT)
    code, _, err = await run(
        sim, tmp_path, "converters", "disable", "--all-projects", "--max-changes", "1"
    )
    assert code == 2 and "max-changes" in err and sim.stats.count(*PUT) == puts


async def test_export_masks_secrets_and_only_a_revealed_one_applies(
    sim: Simulator, tmp_path: Path
) -> None:
    code, out, _ = await run(sim, tmp_path, "converters", "export", "--all-projects")
    assert code == 0 and "/***" in out
    assert all(c.url not in out for c in sim.state.converters.values() if c.url)
    desired = tmp_path / "desired.toml"
    desired.write_text(out)
    # a masked export would create converters pushing to a literal *** stream key: refused
    code, _, err = await run(sim, tmp_path, "converters", "apply", "-f", str(desired), "--json")
    assert code == 2 and "masked URL: export with --reveal-secrets" in err
    code, out, _ = await run(sim, tmp_path, "converters", "export", "--all-projects",
                             "--reveal-secrets")  # fmt: skip
    assert any(c.url in out for c in sim.state.converters.values() if c.url)
    desired.write_text(out)
    code, out, _ = await run(sim, tmp_path, "converters", "apply", "-f", str(desired), "--json")
    assert code == 0 and jl(out)[-1]["succeeded"] == 0


async def test_profiles_and_config_show(sim: Simulator, tmp_path: Path) -> None:
    config = tmp_path / "config" / "aiodji" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'default_profile = "lab"\n[profiles.lab]\nbase_url = "{sim.url}"\n'
        f'token_env = "LAB_KEY"\nprojects = ["Project 01"]\n'
    )
    env = {"LAB_KEY": sim.token}
    code, _, _ = await run(sim, tmp_path, "converters", "list", token="",
                           base_url="https://unused.example", extra_env=env)  # fmt: skip
    assert code == 7  # AIODJI_BASE_URL beats a default profile ...
    code, out, _ = await run(sim, tmp_path, "converters", "list", "--profile", "lab", token="",
                             base_url="https://unused.example", extra_env=env)  # fmt: skip
    assert code == 0 and len(jl(out)) == 3  # ... an explicit --profile beats AIODJI_*
    code, out, _ = await run(sim, tmp_path, "config", "show", extra_env=env)
    shown = jl(out)[0]
    assert code == 0 and shown["token_source"] == "env LAB_KEY" and sim.token not in out
    config.write_text(config.read_text() + 'token = "inline-secret"\n')
    config.chmod(0o644)
    code, _, err = await run(sim, tmp_path, "config", "show", extra_env=env)
    assert code == 3 and "chmod 600" in err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
async def test_shell_completion_scripts(sim: Simulator, tmp_path: Path, shell: str) -> None:
    code, out, _ = await run(sim, tmp_path, extra_env={"_AIODJI_COMPLETE": f"{shell}_source"})
    assert code == 0 and "_AIODJI_COMPLETE" in out


def test_column_widths_fit_the_terminal_ids_whole() -> None:
    from aiodji.cli.output import column_widths

    natural = [11, 10, 19, 36, 16, 6]  # action, project, converter, id, sn, camera
    ids = [False, False, False, True, False, False]
    widths = column_widths(natural, ids, 80)
    assert widths[3] == 36 and sum(widths) + 3 * len(widths) + 1 <= 80
    assert widths == [5, 5, 5, 36, 5, 5]
    assert column_widths(natural, ids, 90)[5] == 6  # a narrow column keeps its width
    assert column_widths(natural, ids, 200) == natural
