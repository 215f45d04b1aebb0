"""The argument checks of aiodji._args: pure functions, no I/O."""

from __future__ import annotations

import pytest

from aiodji._args import (
    check_paging,
    enum_arg,
    path_param,
    require_bool,
    require_int,
    require_text,
)
from aiodji.errors import InvalidArgumentError
from aiodji.models import TaskType


def test_require_text_returns_the_text() -> None:
    assert require_text("name", "dock 1") == "dock 1"


@pytest.mark.parametrize("value", ["", "   ", None, 3, b"x", "a\r\nX-Evil: 1", "a\0"])
def test_require_text_refuses(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="name"):
        require_text("name", value)


def test_require_bool() -> None:
    assert require_bool("enabled", True) is True
    assert require_bool("enabled", False) is False
    for value in (1, 0, "true", None):
        with pytest.raises(InvalidArgumentError, match="enabled must be True or False"):
            require_bool("enabled", value)


def test_require_int_bounds_and_bools() -> None:
    assert require_int("port", 1, high=65535) == 1
    assert require_int("port", 65535, high=65535) == 65535
    assert require_int("n", 10**9) == 10**9  # no upper bound by default
    for value in (0, 65536, True, 1.0, "80", None):
        with pytest.raises(InvalidArgumentError, match="port"):
            require_int("port", value, high=65535)


def test_enum_arg_keeps_unknown_values_and_refuses_other_types() -> None:
    assert enum_arg("task_type", "immediate", TaskType) is TaskType.IMMEDIATE
    assert enum_arg("task_type", "later-one", TaskType) == "later-one"
    with pytest.raises(InvalidArgumentError):
        enum_arg("task_type", 1, TaskType)


@pytest.mark.parametrize(
    ("raw", "wire"),
    [("abc", "abc"), ("a/b", "a%2Fb"), ("..", "%2E%2E"), ("a?b#c", "a%3Fb%23c"), ("%", "%25")],
)
def test_path_param_stays_one_segment(raw: str, wire: str) -> None:
    assert path_param("sn", raw) == wire


def test_check_paging() -> None:
    check_paging(1, None)
    check_paging(3, 100, maximum=100)
    with pytest.raises(InvalidArgumentError, match="page starts at 1"):
        check_paging(0, 10)
    with pytest.raises(InvalidArgumentError, match="page starts at 1"):
        check_paging(True, 10)
    with pytest.raises(InvalidArgumentError, match="page_size"):
        check_paging(1, 0)
    with pytest.raises(InvalidArgumentError, match="at most 100"):
        check_paging(1, 101, maximum=100)


def test_args_is_a_low_module() -> None:
    # importable before (and without) the client and resources: nothing there imports back
    import ast
    import inspect

    import aiodji._args as module

    imported = {
        node.module
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any(m.startswith(("aiodji.client", "aiodji.resources")) for m in imported)
