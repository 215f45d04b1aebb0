"""A plan: the changes that bring the converters to a desired state, and nothing else."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

from aiodji.errors import InvalidArgumentError
from aiodji.models import Converter, Project

from .desired import CreateSpec, Desired
from .selection import resolve_projects

__all__ = [
    "DEFAULT_CONVERTER_LIMIT",
    "Change",
    "ChangeKind",
    "Plan",
    "find_converter",
    "make_plan",
    "projects_to_list",
]

# docs/explanation/api-notes.md#converter-limit: "up to 20" converters, read as per organization;
# private deployments
# raise it, so it is configurable (Fleet(converter_limit=), the desired state, the CLI).
DEFAULT_CONVERTER_LIMIT = 20


class ChangeKind(enum.StrEnum):
    """What a planned change does to a converter (the order apply runs them in)."""

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

    def target_in(self, live: Iterable[Converter]) -> Converter | None:
        """The converter this change is about among ``live`` (a create's by its unique name)."""
        if self.kind is ChangeKind.CREATE:
            return find_converter(live, name=self.converter_name)
        return find_converter(live, converter_id=self.converter_id)

    def satisfied_by(self, current: Converter | None) -> bool:
        """Whether the server already is as this change wants, given :meth:`target_in`'s
        answer: a create exists, a delete is gone, an enable/disable holds. A converter gone
        before its enable/disable counts too: nothing is left to change."""
        if self.kind is ChangeKind.CREATE:
            return current is not None
        if current is None:
            return True
        if self.kind is ChangeKind.DELETE:
            return False
        return bool(current.auto_push_stream) is (self.kind is ChangeKind.ENABLE)


def find_converter(
    converters: Iterable[Converter], *, name: str | None = None, converter_id: str | None = None
) -> Converter | None:
    """The first converter with this id or this exact name (the one matcher for both)."""
    for c in converters:
        if (converter_id is not None and c.converter_id == converter_id) or (
            name is not None and c.converter_name == name
        ):
            return c
    return None


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
    desired: Desired | None = attrs.field(default=None, repr=False)  # what it was made for

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


# -- the planner: pure (no I/O), so it is property-tested without a server ----------------------
def projects_to_list(desired: Desired, projects: Sequence[Project]) -> list[Project]:
    """The projects whose converters :func:`make_plan` needs: those any rule or delete selects,
    or every project when something is to be created (the quota counts the whole organization)."""
    if desired.create:
        return list(projects)
    wanted: dict[str, Project] = {}
    for selection in (*(r.selection for r in desired.rules), *desired.delete):
        for p in resolve_projects(selection, list(projects)):
            wanted[p.uuid] = p
    return list(wanted.values())


def make_plan(
    desired: Desired,
    projects: Sequence[Project],
    converters_by_project: Mapping[str, Sequence[Converter]],
    limit: int | None = None,
) -> Plan:
    """The changes that bring ``converters_by_project`` (the converters of at least
    :func:`projects_to_list`'s projects) to ``desired``, and only those."""
    everything = list(projects)
    by_uuid = {p.uuid: p for p in everything}
    wanted = projects_to_list(desired, everything)
    listed = {p.uuid: list(converters_by_project.get(p.uuid, ())) for p in wanted}

    target: dict[str, bool] = {}  # converter id → enabled
    for rule in desired.rules:
        for p in resolve_projects(rule.selection, everything):
            for c in listed.get(p.uuid, ()):
                if rule.selection.matches(c):
                    target[c.converter_id] = rule.enabled
    doomed: dict[str, Converter] = {}
    for selection in desired.delete:
        for p in resolve_projects(selection, everything):
            for c in listed.get(p.uuid, ()):
                if selection.matches(c):
                    doomed[c.converter_id] = c
    creates = _creates(desired, everything, listed, target, doomed)

    changes: list[Change] = []
    unchanged = 0
    converters = {c.converter_id: c for convs in listed.values() for c in convs}
    for c in doomed.values():
        changes.append(_change(ChangeKind.DELETE, c, by_uuid))
    for cid, enabled in target.items():
        if cid in doomed:
            continue
        c = converters[cid]
        change = _change(ChangeKind.ENABLE if enabled else ChangeKind.DISABLE, c, by_uuid)
        if change.satisfied_by(c):
            unchanged += 1
        else:
            changes.append(change)

    skipped: list[Change] = []
    count: int | None = None
    quota = limit if limit is not None else DEFAULT_CONVERTER_LIMIT
    if creates:
        count = len(converters)
        room = quota - count + len(doomed)
        for change in creates:
            if room > 0:
                changes.append(change)
                room -= 1
            else:
                skipped.append(attrs.evolve(change, skipped="quota"))
    return Plan(
        changes=tuple(changes),
        skipped=tuple(skipped),
        unchanged=unchanged,
        projects=tuple(wanted),
        converter_limit=quota,
        converter_count=count,
        desired=desired,
    )


def _creates(
    desired: Desired,
    everything: list[Project],
    listed: Mapping[str, list[Converter]],
    target: dict[str, bool],
    doomed: Mapping[str, Converter],
) -> list[Change]:
    """The creates still needed; an existing one's ``enabled`` goes into ``target``."""
    creates: list[Change] = []
    for spec in desired.create:
        project = _create_project(spec, everything)
        existing = find_converter(listed[project.uuid], name=spec.name)
        if existing is not None and existing.converter_id in doomed:
            raise InvalidArgumentError(f"{spec.name!r} is both in [[create]] and [[delete]]")
        if existing is not None:
            if spec.enabled is not None:
                target[existing.converter_id] = spec.enabled
            continue
        if spec.enabled is None:
            # the state rules cover the new converter too: without this, the next plan
            # would enable what this one just created (plans must be a fixed point)
            spec = attrs.evolve(spec, enabled=_rule_state(desired, spec, project, everything))
        creates.append(
            Change(
                ChangeKind.CREATE,
                project.uuid,
                converter_name=spec.name,
                project_name=project.name,
                sn=spec.sn,
                camera=spec.camera_index,
                spec=spec,
            )
        )
    return creates


def _rule_state(
    desired: Desired, spec: CreateSpec, project: Project, projects: list[Project]
) -> bool | None:
    """The enabled state the rules give a converter ``spec`` will create (the last match wins,
    as for existing converters), or None when no rule selects it."""
    future = Converter(
        converter_id="",
        converter_name=spec.name,
        sn=spec.sn,
        camera=spec.camera_index,
        project_uuid=project.uuid,
    )
    state: bool | None = None
    for rule in desired.rules:
        in_scope = any(p.uuid == project.uuid for p in resolve_projects(rule.selection, projects))
        if in_scope and rule.selection.matches(future):
            state = rule.enabled
    return state


def _create_project(spec: CreateSpec, projects: list[Project]) -> Project:
    for p in projects:
        if spec.project in (p.uuid, p.name):
            return p
    raise InvalidArgumentError(f"[[create]] {spec.name!r}: no project {spec.project!r}")


def _change(kind: ChangeKind, c: Converter, projects: Mapping[str, Project]) -> Change:
    assert c.project_uuid is not None
    project = projects.get(c.project_uuid)
    return Change(
        kind,
        c.project_uuid,
        converter_name=c.converter_name,
        converter_id=c.converter_id,
        project_name=project.name if project else None,
        sn=c.sn,
        camera=c.camera,
    )
