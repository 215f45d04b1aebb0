"""What every resource namespace shares: the client seam, paging, parsing (argument checks
are in :mod:`aiodji._args`)."""

from __future__ import annotations

import functools
import typing
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiodji.errors import InvalidArgumentError
from aiodji.models import Page
from aiodji.serde import structure

if TYPE_CHECKING:
    from aiodji.client import Client

__all__ = [
    "MAX_PAGES",
    "Resource",
    "Verb",
    "collect",
    "filter_keys",
    "filter_params",
    "no_data",
    "parse_page",
]

T = TypeVar("T")

# A server that never ends its pages must not make aiodji loop forever.
MAX_PAGES = 100_000


async def collect(items: AsyncIterator[T]) -> Page[T]:
    """Every item of a page walk as one Page: what ``list()`` returns (``total`` is the count,
    ``has_more`` is False)."""
    found = [item async for item in items]
    return Page(found, page=1, page_size=len(found), total=len(found))


def no_data(data: Any) -> None:
    """``parse`` for writes whose reply is the bare envelope: any ``data`` is ignored."""
    return None


@functools.cache
def filter_keys(spec: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    """A filters TypedDict's keys and its ``Required[...]`` ones. Read from the annotations:
    under ``from __future__ import annotations`` Python 3.11 leaves ``__required_keys__``
    empty for a ``total=False`` TypedDict whose keys say ``Required``."""
    hints = typing.get_type_hints(spec, include_extras=True)
    required = frozenset(k for k, h in hints.items() if typing.get_origin(h) is typing.Required)
    return tuple(hints), required | frozenset(getattr(spec, "__required_keys__", ()))


def filter_params(filters: Mapping[str, Any], spec: Any) -> dict[str, Any]:
    """A paged resource's ``**filters`` checked against its TypedDict ``spec``: an unknown name
    is a TypeError (as for any keyword), a missing required one an InvalidArgumentError."""
    keys, required = filter_keys(spec)
    unknown = sorted(set(filters) - set(keys))
    if unknown:
        raise TypeError(f"unexpected filter {', '.join(unknown)} (filters: {', '.join(keys)})")
    missing = sorted(k for k in required if filters.get(k) is None)
    if missing:
        raise InvalidArgumentError(f"missing required filter {', '.join(missing)}")
    return dict(filters)


def parse_page(data: Any, item_type: type[T], *, page: int, page_size: int | None) -> Page[T]:
    """``data.list[]`` (+ optional ``data.pagination`` or ``data.total``) → a Page.

    docs/explanation/api-notes.md#pagination: most lists have no totals; a bare list is accepted
    too.
    """
    if data is None:
        return Page([], page=page, page_size=page_size, total=0)
    info: Mapping[str, Any] = {}
    if isinstance(data, list):
        raw_items = data
    elif isinstance(data, Mapping):
        raw_items = data.get("list") or []
        paging = data.get("pagination")
        info = paging if isinstance(paging, Mapping) else data
    else:
        raise TypeError(f"expected a list reply, got {type(data).__name__}")
    items: list[T] = structure(raw_items, list[item_type])  # type: ignore[valid-type]
    total = info.get("total")
    size = info.get("page_size")
    return Page(
        items,
        page=page,
        page_size=size if isinstance(size, int) and size > 0 else page_size,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


class Verb(Protocol):
    """One HTTP method of :meth:`Client._call`: ``await self._get(path, parse=..., ...)``."""

    def __call__(
        self,
        path: str,
        *,
        parse: Callable[[Any], T],
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        project_uuid: str | None = None,
        org_level: bool = False,
    ) -> Awaitable[T]: ...


class Resource:
    """A namespace of API methods bound to one Client (or view of it).

    Resources reach the Client only through the seam bound here, once per namespace (as
    openai-python's ``_resource.py`` binds the client's verbs): ``_get``/``_post``/``_put``/
    ``_delete`` send a call, ``_project_for`` picks the project of a project-scoped one. A view
    (``project()``, ``with_options()``) is another Client, so its namespaces bind its settings.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        call = client._call
        self._get: Verb = functools.partial(call, "GET")
        self._post: Verb = functools.partial(call, "POST")
        self._put: Verb = functools.partial(call, "PUT")
        self._delete: Verb = functools.partial(call, "DELETE")
        self._project_for = client._project_for

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _list_all(
        self,
        method: str,
        page: int | None,
        list_page: Callable[..., Awaitable[Page[T]]],
        **fixed: Any,
    ) -> Page[T]:
        """The one way ``list()`` is built, and what it means on every resource: every item,
        ``list_page`` walked with ``fixed`` (filters, ``page_size``, ``project_uuid``).

        An explicit ``page`` keeps its old meaning (that one page, so code asking for a page
        does not silently get everything) and says where it moved: ``list_page``.
        """
        fetch = functools.partial(list_page, **fixed)
        if page is None:
            return await collect(self._iter_pages(fetch))
        warnings.warn(
            f"{method}(page=...) returns one page: call {method}_page(page) instead "
            f"({method}() without page returns every item)",
            DeprecationWarning,
            stacklevel=3,  # the caller of list(), not list() itself
        )
        return await fetch(page)

    async def _iter_all(
        self, list_page: Callable[..., Awaitable[Page[T]]], **fixed: Any
    ) -> AsyncIterator[T]:
        """The one way ``iter()`` is built: ``list_page`` walked lazily with ``fixed``."""
        async for item in self._iter_pages(functools.partial(list_page, **fixed)):
            yield item

    async def _iter_pages(self, fetch: Callable[[int], Awaitable[Page[T]]]) -> AsyncIterator[T]:
        """Yield items page by page, lazily, until a short/empty page or ``total`` is reached.

        A server that ignores ``page`` answers every page with the first one again: a page
        equal to the previous one ends the walk (its items were already yielded).
        """
        page_no = 1
        previous: list[T] | None = None
        while page_no <= MAX_PAGES:
            page = await fetch(page_no)
            if previous is not None and list(page) == previous:
                return
            for item in page:
                yield item
            if not page.has_more:
                return
            previous = list(page)
            page_no += 1
