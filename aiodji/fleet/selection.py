"""Which converters a rule talks about: projects (uuid, name or glob), devices, cameras, names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any

import attrs

from aiodji.errors import InvalidArgumentError
from aiodji.models import Converter, Project

__all__ = ["ALL", "Selection", "resolve_projects"]

ALL = "all"
_GLOB_CHARS = frozenset("*?[")


def _patterns(name: str, value: Any) -> tuple[str, ...]:
    """``None`` → (), ``"x"`` → ("x",), a list of strings → a tuple; anything else is an error."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgumentError(f"{name} must be a string or a list of non-empty strings")
    return tuple(value)


def _is_glob(pattern: str) -> bool:
    return any(c in _GLOB_CHARS for c in pattern)


@attrs.frozen
class Selection:
    """A set of converters.

    - ``projects``: ``"all"`` (the default) or project uuids, exact names or globs
      (``"Site *"``); a non-glob that matches no project is an error, not an empty selection.
    - ``devices``: device serial numbers or callsigns, globs allowed (``"1581F*"``).
    - ``cameras``: camera indexes (``"81-0-0"``).
    - ``names``: converter name globs (``"dock-*-wide"``).
    Empty filters match everything.
    """

    projects: tuple[str, ...] | str = ALL
    devices: tuple[str, ...] = ()
    cameras: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        projects: str | Sequence[str] | None = ALL,
        devices: str | Sequence[str] | None = None,
        cameras: str | Sequence[str] | None = None,
        names: str | Sequence[str] | None = None,
    ) -> Selection:
        if projects is None or projects == ALL:
            chosen: tuple[str, ...] | str = ALL
        else:
            chosen = _patterns("projects", projects)
            if not chosen:
                raise InvalidArgumentError("projects: give 'all' or at least one project")
        return cls(
            projects=chosen,
            devices=_patterns("devices", devices),
            cameras=_patterns("cameras", cameras),
            names=_patterns("names", names),
        )

    @property
    def all_projects(self) -> bool:
        return self.projects == ALL

    def matches(self, converter: Converter) -> bool:
        """Whether a converter (of a selected project) passes the device/camera/name filters."""
        if self.names and not any(
            fnmatchcase(converter.converter_name or "", p) for p in self.names
        ):
            return False
        if self.cameras and (converter.camera or "") not in self.cameras:
            return False
        if self.devices:
            keys = [converter.sn or "", converter.device_callsign or ""]
            if not any(fnmatchcase(k, p) for p in self.devices for k in keys if k):
                return False
        return True


def resolve_projects(selection: Selection, projects: Iterable[Project]) -> list[Project]:
    """The projects a selection names, in organization order."""
    everything = list(projects)
    if selection.all_projects:
        return everything
    chosen: dict[str, Project] = {}
    for pattern in selection.projects:
        hits = [
            p
            for p in everything
            if p.uuid == pattern or p.name == pattern or fnmatchcase(p.name or "", pattern)
        ]
        if not hits and not _is_glob(pattern):
            raise InvalidArgumentError(f"no project has the uuid or name {pattern!r}")
        for p in hits:
            chosen.setdefault(p.uuid, p)
    return [p for p in everything if p.uuid in chosen]
