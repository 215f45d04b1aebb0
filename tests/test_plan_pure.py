"""The pure planner (``make_plan``) without a server: a plan applied, then re-planned, is empty."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodji.fleet import Change, ChangeKind, CreateSpec, Desired, Selection, StateRule, make_plan
from aiodji.models import Converter, Project

PROJECTS = [Project(uuid=f"p{i}", name=f"Site {i}") for i in range(3)]


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, list[Converter]]:
    out: dict[str, list[Converter]] = {}
    n = 0
    for p in PROJECTS:
        convs = []
        for _ in range(draw(st.integers(0, 5))):
            n += 1
            convs.append(
                Converter(
                    converter_id=f"c{n}",
                    converter_name=f"{draw(st.sampled_from(['dock', 'old', 'cam']))}-{n}",
                    sn=draw(st.sampled_from(["SN1", "SN2"])),
                    camera="81-0-0",
                    auto_push_stream=draw(st.booleans()),
                    project_uuid=p.uuid,
                )
            )
        out[p.uuid] = convs
    return out


@st.composite
def desireds(draw: st.DrawFn) -> Desired:
    rules = tuple(
        StateRule(
            Selection.build(
                draw(st.sampled_from(["all", "Site 0", ["Site 1", "Site 2"]])),
                draw(st.sampled_from([None, "SN1"])),
                None,
                draw(st.sampled_from([None, "dock-*", "cam-*"])),
            ),
            draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    delete = tuple(
        Selection.build("all", None, None, "old-*") for _ in range(draw(st.integers(0, 1)))
    )
    create = tuple(
        CreateSpec(
            project=draw(st.sampled_from(["Site 0", "p1"])),
            name=f"new-{i}",
            sn="SN1",
            camera_index="81-0-0",
            url="rtmp://x/live/k",
            enabled=draw(st.sampled_from([None, True, False])),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    limit = draw(st.sampled_from([None, 5, 100]))
    return Desired(rules=rules, create=create, delete=delete, converter_limit=limit)


def apply_in_memory(
    plan_changes: tuple[Change, ...], state: dict[str, list[Converter]]
) -> dict[str, list[Converter]]:
    out = {k: list(v) for k, v in state.items()}
    n = 0
    for change in plan_changes:
        convs = out[change.project_uuid]
        if change.kind is ChangeKind.DELETE:
            convs[:] = [c for c in convs if c.converter_id != change.converter_id]
        elif change.kind is ChangeKind.CREATE:
            n += 1
            spec = change.spec
            assert spec is not None
            convs.append(
                Converter(
                    converter_id=f"new{n}",
                    converter_name=spec.name,
                    sn=spec.sn,
                    camera=spec.camera_index,
                    auto_push_stream=bool(spec.enabled),
                    project_uuid=change.project_uuid,
                )
            )
        else:
            on = change.kind is ChangeKind.ENABLE
            convs[:] = [
                attrs.evolve(c, auto_push_stream=on) if c.converter_id == change.converter_id else c
                for c in convs
            ]
    return out


@settings(max_examples=300, deadline=None)
@given(fleets(), desireds())
def test_a_plan_applied_then_replanned_is_empty(
    state: dict[str, list[Converter]], desired: Desired
) -> None:
    plan = make_plan(desired, PROJECTS, state, desired.converter_limit)
    after = apply_in_memory(plan.changes, state)
    again = make_plan(desired, PROJECTS, after, desired.converter_limit)
    assert again.changes == ()
    # quota: whatever was skipped stays skipped, and nothing beyond the limit was created
    assert len(again.skipped) == len(plan.skipped)


@given(fleets())
def test_an_empty_desired_state_plans_nothing(state: dict[str, list[Converter]]) -> None:
    assert make_plan(Desired(), PROJECTS, state).empty
