"""The lenient converter: what a real server may send in scalar fields."""

from __future__ import annotations

import logging

import attrs
import cattrs
import pytest
from _servers import LocalServers, envelope
from aiohttp import web

import aiodji
from aiodji import serde
from aiodji.models import Converter, ConverterState
from aiodji.serde import structure


@attrs.frozen
class Inner:
    n: int


@attrs.frozen
class Probe:
    weeks: list[int] = attrs.field(factory=list)
    count: int | None = None
    nested: Inner | None = None


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("false", False),
        ("FALSE", False),
        ("1", True),
    ],
)
def test_flags_read_strings_and_numbers_right(sent: object, expected: bool) -> None:
    converter = structure({"converter_id": "a", "auto_push_stream": sent}, Converter)
    assert converter.auto_push_stream is expected


@pytest.mark.parametrize("sent", ["maybe", 2, 0.5, [], {}])
def test_a_flag_that_is_no_boolean_is_kept_as_sent_and_strict_fails(sent: object) -> None:
    converter = structure({"converter_id": "a", "auto_push_stream": sent}, Converter)
    assert converter.auto_push_stream == sent and converter.converter_id == "a"
    with pytest.raises(cattrs.BaseValidationError):
        structure({"converter_id": "a", "auto_push_stream": sent}, Converter, strict=True)


def test_a_misfit_field_is_kept_as_sent_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    # live sends week_of_month as one integer, older sources as a list: neither fails a call
    serde._MISFITS_LOGGED.discard(("Probe", "weeks"))
    with caplog.at_level(logging.WARNING, logger="aiodji"):
        for _ in range(3):
            probe = structure({"weeks": 2, "count": "secret-ish", "nested": {"n": "x"}}, Probe)
    assert probe == Probe(weeks=2, count="secret-ish", nested=Inner(n="x"))  # type: ignore[arg-type]
    lines = [r.getMessage() for r in caplog.records if "Probe.weeks" in r.getMessage()]
    assert len(lines) == 1 and "kept as sent" in lines[0]
    assert all("secret-ish" not in r.getMessage() for r in caplog.records)
    with pytest.raises(cattrs.BaseValidationError):
        structure({"weeks": 2}, Probe, strict=True)


def test_a_misfit_item_of_a_list_keeps_the_other_items_typed() -> None:
    items = structure([{"weeks": [1]}, {"weeks": "first"}], list[Probe])
    assert items[0].weeks == [1] and items[1].weeks == "first"


@pytest.mark.parametrize(("sent", "expected"), [(3, 3), (3.0, 3), ("7", 7), (" -2 ", -2)])
def test_integers_read_without_loss(sent: object, expected: int) -> None:
    assert structure({"count": sent}, Probe).count == expected


@pytest.mark.parametrize("sent", [2.5, "2.5", True])
def test_a_lossy_integer_is_kept_as_sent(sent: object) -> None:
    assert structure({"count": sent}, Probe).count is sent


def test_a_missing_required_field_still_fails() -> None:
    with pytest.raises(TypeError):
        structure({"weeks": "x"}, Inner)


def test_odd_scalars_are_kept() -> None:
    converter = structure({"converter_id": "a", "update_ts": 1.5, "state": 5}, Converter)
    assert converter.update_ts == 1.5
    assert converter.state == "5" and isinstance(converter.state, ConverterState)
    assert not converter.state.known


@pytest.mark.anyio
async def test_tasks_get_keeps_a_week_of_month_of_either_shape() -> None:
    # the model follows live (one integer); an older server's list must not fail the call
    async def handler(request: web.Request) -> web.StreamResponse:
        return envelope({"uuid": "t1", "week_of_month": [2], "interval": "weekly"})

    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token="t", base_url=url, project_uuid="p") as dji:
            task = await dji.tasks.get("t1")
    assert task.uuid == "t1" and task.week_of_month == [2] and task.interval == "weekly"
