"""What every resource namespace shares: the client seam, paging, parsing (argument checks
are in :mod:`aiodji._args`)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiodji.models import Page
from aiodji.serde import structure

if TYPE_CHECKING:
    from aiodji.client import Client

__all__ = [
    "MAX_PAGES",
    "Resource",
    "Verb",
    "collect",
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

    async def _every(
        self, method: str, page: int | None, fetch: Callable[[int], Awaitable[Page[T]]]
    ) -> Page[T]:
        """What ``list()`` means on every resource: every item, all pages fetched.

        An explicit ``page`` keeps its old meaning (that one page, so code asking for a page
        does not silently get everything) and says where it moved: ``list_page``.
        """
        if page is None:
            return await collect(self._iter_pages(fetch))
        warnings.warn(
            f"{method}(page=...) returns one page: call {method}_page(page) instead "
            f"({method}() without page returns every item)",
            DeprecationWarning,
            stacklevel=3,  # the caller of list(), not list() itself
        )
        return await fetch(page)

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
