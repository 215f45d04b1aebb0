"""What the command line shows is the data, literally: names from the server and messages with
brackets are never read as rich markup (``cam[wide]`` stays, ``x[/]y`` does not crash)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from _inproc import SimThread, run, use_simulator

from aiodji.cli import printing
from aiodji.sim import Simulator

NAMES = ("cam[wide]", "[bold]boss[/bold]", "x[/]y")


@pytest.fixture(scope="module")
def served() -> Iterator[Simulator]:
    with SimThread() as sim:
        for converter, name in zip(sim.state.converters.values(), NAMES, strict=False):
            converter.converter_name = name
            converter.auto_push_stream = True
        yield sim


@pytest.fixture
def sim(served: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    return use_simulator(served, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [
        ["converters", "list", "--all-projects"],
        ["converters", "disable", "--all-projects", "--dry-run"],
        ["converters", "export", "--all-projects"],
    ],
)
def test_names_with_brackets_are_shown_as_they_are(sim: Simulator, argv: list[str]) -> None:
    code, out, err = run(["-o", "table", "--wide", *argv])
    assert code == 0, err
    for name in NAMES:
        assert name in out, out


def test_an_error_text_keeps_its_brackets(sim: Simulator) -> None:
    code, _, err = run(["-o", "table", "converters", "get", "nope[x]"])
    assert code == 5 and "no converter has the id 'nope[x]'" in err, err


def test_a_message_keeps_its_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        printing.fail("the scale commands need the extra: pip install 'aiodji[scale]'")
    assert "'aiodji[scale]'" in capsys.readouterr().err


def test_machine_formats_carry_the_names_unchanged(sim: Simulator) -> None:
    code, out, _ = run(["--json", "converters", "list", "--all-projects"])
    names = {orjson.loads(line)["converter_name"] for line in out.splitlines()}
    assert code == 0 and set(NAMES) <= names


def test_a_narrow_table_drops_the_last_columns_before_it_cuts_names() -> None:
    from aiodji.cli.output import columns_that_fit

    # project, converter_name, converter_id (36), enabled, state: at 70 columns
    natural, ids = [10, 16, 36, 7, 8], [False, False, True, False, False]
    kept = columns_that_fit(natural, ids, 70)
    assert kept[:3] == [0, 1, 2] and len(kept) < 5
    assert columns_that_fit(natural, ids, 200) == [0, 1, 2, 3, 4]


def test_at_70_columns_the_converter_names_stay_whole(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    code, out, _ = run(["-o", "table", "converters", "list", "--all-projects"])
    assert code == 0 and "dock-0201-wide" in out and "x[/]y" in out, out
    assert "converter_id" in out and "state" not in out  # dropped before names are cut
