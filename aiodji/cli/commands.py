"""The commands: projects, devices, converters (list, create, enable, disable, delete, apply),
sim; doctor lives in its own module."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import aiodji
from aiodji.bulk import ItemResult
from aiodji.fleet import Change, CreateSpec, Desired, Plan, Selection
from aiodji.redact import mask_url

from ._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Interrupts,
    Settings,
    default_journal,
    emit_json,
    item_record,
    make_progress,
    print_report,
    print_table,
    resume_command,
    run_async,
    stderr,
    stdout,
)
from .doctor import doctor

__all__ = ["converters", "devices", "doctor", "projects", "sim"]

pass_settings = click.make_pass_decorator(Settings)


def _selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--project / --all-projects / --device / --camera / --name."""
    options = [
        click.option(
            "--project",
            "projects",
            multiple=True,
            help="Project uuid, exact name or glob ('Site *'); repeatable.",
        ),
        click.option("--all-projects", is_flag=True, help="Every project of the organization."),
        click.option(
            "--device",
            "devices",
            multiple=True,
            help="Device serial number or callsign, globs allowed; repeatable.",
        ),
        click.option("--camera", "cameras", multiple=True, help="Camera index; repeatable."),
        click.option(
            "--name", "names", multiple=True, help="Converter name glob ('dock-*'); repeatable."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _selection(
    projects: tuple[str, ...],
    all_projects: bool,
    devices: tuple[str, ...],
    cameras: tuple[str, ...],
    names: tuple[str, ...],
) -> Selection:
    if all_projects and projects:
        raise click.UsageError("give --project or --all-projects, not both")
    if not (all_projects or projects):
        raise click.UsageError("choose projects: --project NAME (repeatable) or --all-projects")
    return Selection.build("all" if all_projects else projects, devices, cameras, names)


# -- projects / devices -----------------------------------------------------------------------
@click.group()
def projects() -> None:
    """Projects of the organization."""


@projects.command("list")
@click.option("--q", "query", help="Only projects whose name contains this text.")
@pass_settings
def projects_list(settings: Settings, query: str | None) -> None:
    """List the organization's projects (every page)."""

    async def main() -> int:
        async with settings.client() as dji:
            found = [p async for p in dji.projects.iter(q=query)]
        if settings.json:
            for p in found:
                emit_json({"type": "project", "uuid": p.uuid, "name": p.name})
        else:
            print_table(
                f"{len(found)} projects",
                ("uuid", "name", "created_at"),
                ((p.uuid, p.name, p.created_at) for p in found),
            )
        return 0

    run_async(main)


@click.group()
def devices() -> None:
    """Docks and aircraft."""


@devices.command("list")
@click.option("--project", help="Only this project's devices (uuid or exact name).")
@pass_settings
def devices_list(settings: Settings, project: str | None) -> None:
    """List device pairs (dock/RC and aircraft) of the organization or of one project."""

    async def main() -> int:
        async with settings.client() as dji:
            if project is None:
                pairs = [d async for d in dji.devices.iter()]
            else:
                chosen = await dji.fleet.projects(Selection.build([project]))
                pairs = list(await dji.projects.devices(project_uuid=chosen[0].uuid))
        rows = []
        for pair in pairs:
            gw, drone = pair.gateway, pair.drone
            cameras = [c.camera_index for d in pair.devices() for c in d.cameras]
            row = {
                "gateway_sn": gw.sn if gw else None,
                "gateway": gw.callsign if gw else None,
                "model": gw.device_model.name if gw and gw.device_model else None,
                "online": gw.online if gw else None,
                "drone_sn": drone.sn if drone else None,
                "drone": drone.callsign if drone else None,
                "cameras": ",".join(c for c in cameras if c),
            }
            rows.append(row)
        if settings.json:
            for row in rows:
                emit_json({"type": "device_pair", **row})
        else:
            columns = ("gateway_sn", "gateway", "model", "online", "drone_sn", "drone", "cameras")
            print_table(
                f"{len(rows)} device pairs", columns, ([r[c] for c in columns] for r in rows)
            )
        return 0

    run_async(main)


# -- converters -------------------------------------------------------------------------------
@click.group()
def converters() -> None:
    """Stream converters (forward a camera's live video to an RTMP/GB28181 target)."""


@converters.command("list")
@_selection_options
@pass_settings
def converters_list(settings: Settings, /, **selection: Any) -> None:
    """List converters of the selected projects (push URLs masked)."""
    chosen = _selection(**selection)

    async def main() -> int:
        async with settings.client() as dji:
            found = await dji.fleet.converters(
                chosen.projects, devices=chosen.devices, cameras=chosen.cameras, names=chosen.names
            )
        rows = [
            {
                "project_uuid": c.project_uuid,
                "converter_id": c.converter_id,
                "converter_name": c.converter_name,
                "sn": c.sn,
                "camera": c.camera,
                "enabled": c.auto_push_stream,
                "state": None if c.state is None else str(c.state),
                "url": mask_url(c.url),
            }
            for c in found
        ]
        if settings.json:
            for row in rows:
                emit_json({"type": "converter", **row})
        else:
            columns = ("converter_name", "converter_id", "sn", "camera", "enabled", "state", "url")
            print_table(f"{len(rows)} converters", columns, ([r[c] for c in columns] for r in rows))
        return 0

    run_async(main)


@converters.command("create")
@click.option("--project", required=True, help="Project uuid or exact name.")
@click.option("--name", required=True, help="Converter name (unique in the organization).")
@click.option("--sn", required=True, help="Source device serial number (dock or aircraft).")
@click.option("--camera", required=True, help="Camera index, e.g. 81-0-0 (see devices list).")
@click.option("--url", required=True, help="Push target, rtmp://host/app/stream.")
@click.option("--enable", is_flag=True, help="Enable it once created.")
@click.option("--converter-limit", type=int, help="Organization converter quota (default 20).")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@pass_settings
def converters_create(settings: Settings, /, **opts: Any) -> None:
    """Create a converter unless one with this name exists (never a duplicate)."""
    spec = CreateSpec(
        project=opts["project"],
        name=opts["name"],
        sn=opts["sn"],
        camera_index=opts["camera"],
        url=opts["url"],
        enabled=True if opts["enable"] else None,
    )
    desired = Desired(create=(spec,), converter_limit=opts["converter_limit"])
    _plan_and_apply(settings, desired, "create", dry_run=opts["dry_run"], journal=None, resume=None)


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run / --journal / --resume: the options of every command that applies a plan."""
    options = [
        click.option("--dry-run", is_flag=True, help="Show the plan as a table, change nothing."),
        click.option(
            "--journal", type=click.Path(path_type=Path), help="Journal file (JSON lines)."
        ),
        click.option(
            "--resume",
            type=click.Path(path_type=Path, exists=True),
            help="Journal of an interrupted run: skip what it did, re-check what is unknown.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _toggle_command(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.command(verb)
    @_selection_options
    @_run_options
    @pass_settings
    def command(
        settings: Settings, /, dry_run: bool, journal: Path | None, resume: Path | None, **sel: Any
    ) -> None:
        desired = Desired.enabled(enabled, _selection(**sel))
        _plan_and_apply(settings, desired, verb, dry_run=dry_run, journal=journal, resume=resume)

    command.help = (
        f"{verb.capitalize()} every selected converter that is not already {verb}d, "
        "concurrently, with a journal (Ctrl-C stops cleanly and prints the resume command)."
    )
    return command


converters.add_command(_toggle_command(True))
converters.add_command(_toggle_command(False))


@converters.command("delete")
@_selection_options
@click.option("--yes", is_flag=True, help="Really delete (without it: --dry-run is implied).")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@click.option("--journal", type=click.Path(path_type=Path), help="Journal file (JSON lines).")
@click.option("--resume", type=click.Path(path_type=Path, exists=True), help="Resume a run.")
@pass_settings
def converters_delete(
    settings: Settings,
    /,
    yes: bool,
    dry_run: bool,
    journal: Path | None,
    resume: Path | None,
    **sel: Any,
) -> None:
    """Delete the selected converters; needs --name, --device or --camera (--name '*' = all)."""
    selection = _selection(**sel)
    if not (selection.names or selection.devices or selection.cameras):
        raise click.UsageError("delete needs --name, --device or --camera (--name '*' for all)")
    if not yes and not dry_run:
        stderr.print("[yellow]no --yes: showing the plan only[/]")
    desired = Desired(delete=(selection,))
    _plan_and_apply(
        settings, desired, "delete", dry_run=dry_run or not yes, journal=journal, resume=resume
    )


@converters.command("apply")
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Desired-state TOML file (see the README).",
)
@_run_options
@click.option("--queue", help="Redis URL: run on `aiodji worker`s (aiodji[scale]).")
@click.option("--no-wait", is_flag=True, help="With --queue: enqueue and return at once.")
@pass_settings
def converters_apply(
    settings: Settings,
    path: Path,
    dry_run: bool,
    journal: Path | None,
    resume: Path | None,
    queue: str | None = None,
    no_wait: bool = False,
) -> None:
    """Bring converters to the state a desired-state file describes (only what differs)."""
    if queue and not dry_run:
        from .scale import apply_on_queue

        return apply_on_queue(settings, path, queue, wait=not no_wait)
    try:
        desired = Desired.from_toml(path)
    except aiodji.InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="--file") from None
    _plan_and_apply(settings, desired, "apply", dry_run=dry_run, journal=journal, resume=resume)


def _print_plan(plan: Plan, *, as_json: bool) -> None:
    everything = (*plan.changes, *plan.skipped)
    if as_json:
        for c in everything:
            emit_json(
                {
                    "type": "change",
                    "action": c.description,
                    "project_uuid": c.project_uuid,
                    "project": c.project_name,
                    "converter_id": c.converter_id,
                    "converter_name": c.converter_name,
                    "sn": c.sn,
                    "camera": c.camera,
                }
            )
        emit_json({"type": "plan", **plan.counts, "converter_limit": plan.converter_limit})
        return
    print_table(
        f"plan: {plan.summary()}",
        ("action", "project", "converter", "id", "sn", "camera"),
        (
            (c.description, c.project_name, c.converter_name, c.converter_id, c.sn, c.camera)
            for c in everything
        ),
    )


def _plan_and_apply(
    settings: Settings,
    desired: Desired,
    title: str,
    *,
    dry_run: bool,
    journal: Path | None,
    resume: Path | None,
) -> None:
    async def main() -> int:
        async with settings.client() as dji:
            plan = await dji.fleet.plan(desired)
            if dry_run:
                _print_plan(plan, as_json=settings.json)
                return 0
            if plan.empty:
                if settings.json:
                    emit_json({"type": "summary", "succeeded": 0, "unchanged": plan.unchanged})
                else:
                    stdout.print(f"nothing to do ({plan.unchanged} unchanged)")
                return 0
            book = journal or resume or default_journal()
            interrupts = Interrupts()
            interrupts.install()
            try:
                report = await _apply_with_progress(dji, plan, settings, book, resume, interrupts)
            finally:
                interrupts.uninstall()
        print_report(f"{title}: {plan.summary()}", report, as_json=settings.json)
        if report.already_done:
            stderr.print(f"{report.already_done} changes already done (journal)")
        if report.ok:
            return 0
        if report.not_attempted or report.unknown:
            command = resume_command(sys.argv[1:], book)
            stderr.print(f"journal: {book}\nto resume: {command}", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED if interrupts.count else EXIT_FAILED

    run_async(main)


async def _apply_with_progress(
    dji: aiodji.Client,
    plan: Plan,
    settings: Settings,
    journal: Path,
    resume: Path | None,
    interrupts: Interrupts,
) -> Any:
    total = len(plan.changes) + len(plan.skipped)
    with make_progress() as progress:
        bar = progress.add_task("converters", total=total)

        def on_result(result: ItemResult[Change, Any]) -> None:
            progress.advance(bar)
            if settings.json:
                emit_json(item_record(result))

        report = await dji.fleet.apply(
            plan,
            journal=journal,
            resume=resume,
            concurrency=settings.concurrency,
            progress=on_result,
            stop=interrupts.stop,
        )
        progress.update(bar, total=report.accounted + report.already_done)
    return report


# -- the simulator ----------------------------------------------------------------------------
@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sim(args: tuple[str, ...]) -> None:
    """Serve the FlightHub 2 simulator (options: aiodji sim --help)."""
    from aiodji.sim.__main__ import main as sim_main

    raise SystemExit(sim_main(list(args)))
