"""Bulk jobs on a Client: ``dji.bulk`` and the converter targets it works on."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import attrs

from aiodji.bulk.engine import BulkOptions, BulkRun, run_bulk
from aiodji.errors import InvalidArgumentError

if TYPE_CHECKING:
    from aiodji.client import Client

__all__ = ["BulkOps", "ConverterTarget"]

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen
class ConverterTarget:
    """A converter addressed by project and id (what ``dji.bulk`` works on)."""

    project_uuid: str
    converter_id: str

    @classmethod
    def of(cls, target: object) -> ConverterTarget:
        """From a ``(project_uuid, converter_id)`` pair or a Converter with ``.project_uuid``."""
        if isinstance(target, ConverterTarget):
            return target
        return cls(*target_pair(target))


def target_pair(target: object) -> tuple[str, str]:
    """``(project_uuid, converter_id)`` of a target (see :meth:`ConverterTarget.of`), checked."""
    if isinstance(target, ConverterTarget):
        return target.project_uuid, target.converter_id
    if isinstance(target, tuple) and len(target) == 2:
        project, converter_id = target
    else:
        project = getattr(target, "project_uuid", None)
        converter_id = getattr(target, "converter_id", None)
        if converter_id is None:
            raise InvalidArgumentError(
                "a target is a (project_uuid, converter_id) pair or a Converter, "
                f"got {type(target).__name__}"
            )
        if not project:
            raise InvalidArgumentError(
                f"converter {converter_id!r} has no project_uuid: list it from a project view"
            )
    for name, value in (("project_uuid", project), ("converter_id", converter_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    return project, converter_id


class BulkOps:
    """``dji.bulk``: bulk jobs bound to a Client (sharing its pool and limiter)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<BulkOps of {self._client!r}>"

    def run(
        self,
        items: Iterable[T] | AsyncIterable[T],
        fn: Callable[[T], Awaitable[R]],
        **options: Unpack[BulkOptions],
    ) -> BulkRun[T, R]:
        """:func:`run_bulk` (same options); ``fn`` typically calls this Client."""
        return run_bulk(items, fn, **options)

    def set_converters_enabled(
        self,
        targets: Iterable[Any] | AsyncIterable[Any],
        enabled: bool,
        **options: Unpack[BulkOptions],
    ) -> BulkRun[Any, None]:
        """Enable or disable many converters: ``PUT /openapi/v0.1/live-stream/converter/{id}``
        with ``{"auto_push_stream": enabled}`` per item, in their own projects.

        ``targets``: a (sync or async) iterable of ``(project_uuid, converter_id)`` pairs or of
        :class:`aiodji.models.Converter` (from a project view, so they carry ``project_uuid``).
        A malformed target is a ``failed`` result (InvalidArgumentError), not an exception.
        ``async for r in dji.bulk.set_converters_enabled(...)`` or ``await (...).run()`` for the
        :class:`BulkReport`; the other options are :func:`run_bulk`'s.
        """
        if not isinstance(enabled, bool):
            raise InvalidArgumentError(f"enabled must be True or False, got {enabled!r}")

        set_enabled = self._client.converters.set_enabled  # one namespace, no per-item view

        def apply(target: Any) -> Awaitable[None]:
            # returns the call itself: no coroutine of its own around it (the hot path)
            project, converter_id = target_pair(target)
            return set_enabled(converter_id, enabled, project_uuid=project)

        return run_bulk(targets, apply, **options)
