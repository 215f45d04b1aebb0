"""The lenient converter: what a real server may send in scalar fields."""

from __future__ import annotations

import pytest

from aiodji.models import Converter, ConverterState
from aiodji.serde import structure


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
def test_a_flag_that_is_no_boolean_is_an_error(sent: object) -> None:
    with pytest.raises(ValueError):
        structure({"converter_id": "a", "auto_push_stream": sent}, Converter)


def test_odd_scalars_are_kept() -> None:
    converter = structure({"converter_id": "a", "update_ts": 1.5, "state": 5}, Converter)
    assert converter.update_ts == 1.5
    assert converter.state == "5" and isinstance(converter.state, ConverterState)
    assert not converter.state.known
