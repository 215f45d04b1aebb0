"""Shared model pieces: open enums, pages, field helpers."""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["OpenStrEnum", "Page", "aka", "local", "wire"]

T = TypeVar("T")


class OpenStrEnum(enum.StrEnum):
    """A string enum that keeps values it does not know.

    ``ConverterState("paused")`` returns a pseudo-member whose value is ``"paused"`` instead of
    raising, so a server that adds a value never breaks a client
    (docs/explanation/design.md#lenient). Members compare
    equal to their strings.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a number where a string enum was documented: keep it too
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """True for a documented value, False for one the server added since."""
        return self._name_ in type(self).__members__


def wire(name: str, **kw: Any) -> Any:
    """An attrs field whose JSON name differs from its Python name (e.g. ``class``)."""
    metadata = {"wire": name, **kw.pop("metadata", {})}
    return attrs.field(metadata=metadata, **kw)


def aka(*names: str, **kw: Any) -> Any:
    """An attrs field the server may also spell ``names`` (V1 vs V2 names,
    docs/explanation/api-notes.md#live).

    Structuring reads the first spelling present (the field's own name first); unstructuring
    writes the field's own name.
    """
    metadata = {"aliases": names, **kw.pop("metadata", {})}
    return attrs.field(metadata=metadata, **kw)


def local(**kw: Any) -> Any:
    """An attrs field aiodji fills in itself; never read from or sent to the server."""
    metadata = {"local": True, **kw.pop("metadata", {})}
    kw.setdefault("default", None)
    return attrs.field(metadata=metadata, **kw)


class Page(list[T], Generic[T]):
    """A list reply: a ``list`` of items plus paging info. ``list_page()`` gives one page as
    the server sent it; ``list()`` gives every item in one Page (``total`` is the count).

    ``total`` is None when the server does not say (most FlightHub 2 lists,
    docs/explanation/api-notes.md#pagination).
    """

    def __init__(
        self,
        items: list[T] | None = None,
        *,
        page: int = 1,
        page_size: int | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(items or [])
        self.page = page
        self.page_size = page_size
        self.total = total

    @property
    def has_more(self) -> bool:
        """Whether a next page may exist: not past ``total``, and this page was full."""
        # only an exactly full page may have a successor: a short one is the last
        # (docs/explanation/api-notes.md#pagination), a longer one means the server ignored
        # page_size and sent everything
        if not self or self.page_size is None or len(self) != self.page_size:
            return False
        return self.total is None or self.page * self.page_size < self.total

    @property
    def items(self) -> list[T]:
        return list(self)

    def __repr__(self) -> str:
        return (
            f"Page(page={self.page}, page_size={self.page_size}, total={self.total}, "
            f"items={list.__repr__(self)})"
        )
