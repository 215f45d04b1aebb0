"""A plan: the changes that bring the converters to a desired state, and nothing else."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator

import attrs

from aiodji.models import Project

from .desired import CreateSpec

__all__ = ["Change", "ChangeKind", "Plan"]


class ChangeKind(enum.StrEnum):
    DELETE = "delete"
    DISABLE = "disable"
    ENABLE = "enable"
    CREATE = "create"


@attrs.frozen
class Change:
    """One converter change. ``key`` identifies it across runs (journal, resume)."""

    kind: ChangeKind
    project_uuid: str
    converter_name: str | None = None
    converter_id: str | None = None  # None for a create
    project_name: str | None = None
    sn: str | None = None
    camera: str | None = None
    spec: CreateSpec | None = attrs.field(default=None, repr=False)
    skipped: str | None = None  # why it will not be done ("quota")

    @property
    def key(self) -> str:
        # a create is known by its (project, unique name); the others by converter id
        target = self.converter_name if self.kind is ChangeKind.CREATE else self.converter_id
        return f"{self.kind}:{self.project_uuid}:{target}"

    @property
    def description(self) -> str:
        return f"skipped ({self.skipped})" if self.skipped else f"will {self.kind}"


@attrs.frozen
class Plan:
    """``changes`` to make (deletes, then enable/disable, then creates); ``skipped`` ones that
    cannot be made (``skipped (quota)``); ``unchanged``: selected converters already right."""

    changes: tuple[Change, ...] = ()
    skipped: tuple[Change, ...] = ()
    unchanged: int = 0
    projects: tuple[Project, ...] = attrs.field(default=(), repr=False)
    converter_limit: int | None = None
    converter_count: int | None = None  # converters in the organization, when counted
    # project uuid → why its converters could not be read (NotAvailableError: the deployment
    # lacks stream forwarding); such projects are reported, not a failed run
    unavailable: dict[str, str] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    @property
    def empty(self) -> bool:
        """Nothing to do (a second apply of the same desired state)."""
        return not self.changes and not self.skipped

    @property
    def counts(self) -> dict[str, int]:
        """``{"will disable": 12, "skipped (quota)": 1, "unchanged": 40, ...}``."""
        counts = Counter(c.description for c in (*self.changes, *self.skipped))
        counts["unchanged"] = self.unchanged
        return dict(counts)

    def summary(self) -> str:
        text = ", ".join(f"{n} {what}" for what, n in self.counts.items()) or "nothing to do"
        if self.unavailable:
            text += f"; {len(self.unavailable)} projects without stream forwarding"
        return text
