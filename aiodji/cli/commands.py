"""The commands: projects, devices, converters (list, create, enable, disable, delete, apply),
sim; doctor lives in its own module."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click

import aiodji
from aiodji.bulk import BulkReport, ItemResult, ItemState
from aiodji.fleet import (
    Change,
    CreateSpec,
    Desired,
    FleetReport,
    Plan,
    Selection,
    change_record,
    result_record,
)
from aiodji.fleet.journal import read_journal, read_journal_file
from aiodji.models import Converter
from aiodji.redact import mask_url

from .doctor import doctor
from .exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ExistsAlready,
    ExitCode,
    NothingMatched,
    exit_code_for,
)
from .export import export_toml
from .params import Name
from .printing import (
    emit_json,
    make_progress,
    print_report,
    print_table,
    report_error,
    stderr,
    stdout,
)
from .running import (
    STOP_AFTER_CONNECTION_FAILURES,
    Interrupts,
    Tally,
    default_journal,
    print_interrupted,
    resume_command,
    run_async,
    writable_journal,
)
from .settings import Settings, one_project, select_projects

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
    settings: Settings,
    projects: tuple[str, ...],
    all_projects: bool,
    devices: tuple[str, ...],
    cameras: tuple[str, ...],
    names: tuple[str, ...],
) -> Selection:
    if all_projects and projects:
        raise click.UsageError("give --project or --all-projects, not both")
    if not (projects or all_projects):
        projects = settings.default_projects  # the profile's, if any
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
        rows = [{"uuid": p.uuid, "name": p.name, "created_at": p.created_at} for p in found]
        settings.rows("project", f"{len(rows)} projects", rows, ("uuid", "name", "created_at"))
        return 0

    run_async(main)


@click.group()
def devices() -> None:
    """Docks and aircraft."""


DEVICE_COLUMNS = ("gateway_sn", "gateway", "model", "online", "drone_sn", "drone", "cameras")


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
                chosen = await one_project(dji, project)
                pairs = list(await dji.projects.devices(project_uuid=chosen.uuid))
        rows = []
        for pair in pairs:
            gw, drone = pair.gateway, pair.drone
            cameras = [c.camera_index for d in pair.devices() for c in d.cameras]
            rows.append(
                {
                    "gateway_sn": gw.sn if gw else None,
                    "gateway": gw.callsign if gw else None,
                    "model": gw.device_model.name if gw and gw.device_model else None,
                    "online": gw.online if gw else None,
                    "drone_sn": drone.sn if drone else None,
                    "drone": drone.callsign if drone else None,
                    "cameras": ",".join(c for c in cameras if c),
                }
            )
        settings.rows("device_pair", f"{len(rows)} device pairs", rows, DEVICE_COLUMNS)
        return 0

    run_async(main)


# -- converters -------------------------------------------------------------------------------
@click.group()
def converters() -> None:
    """Stream converters (forward a camera's live video to an RTMP/GB28181 target)."""


CONVERTER_COLUMNS = (
    "project",
    "converter_name",
    "converter_id",
    "sn",
    "camera",
    "enabled",
    "state",
    "url",
    "updated_at",
)
CONVERTER_TABLE = ("project", "converter_name", "converter_id", "enabled", "state")


def _converter_row(c: Converter, names: dict[str, str | None]) -> dict[str, Any]:
    return {
        "project_uuid": c.project_uuid,
        "project": names.get(c.project_uuid or "", c.project_uuid),
        "converter_id": c.converter_id,
        "converter_name": c.converter_name,
        "sn": c.sn,
        "camera": c.camera,
        "enabled": c.auto_push_stream,
        "state": None if c.state is None else str(c.state),
        "url": mask_url(c.url),
        "updated_at": c.update_ts,
    }


async def _selected(
    dji: aiodji.Client, chosen: Selection
) -> tuple[list[Converter], dict[str, str | None]]:
    """The selected converters and the project names; a selection of no project is an error."""
    projects = await select_projects(dji, chosen)
    found = await dji.fleet.converters(
        [p.uuid for p in projects],
        devices=chosen.devices,
        cameras=chosen.cameras,
        names=chosen.names,
    )
    return found, {p.uuid: p.name for p in projects}


@converters.command("list")
@_selection_options
@pass_settings
def converters_list(settings: Settings, /, **selection: Any) -> None:
    """List converters of the selected projects (push URLs masked)."""
    chosen = _selection(settings, **selection)

    async def main() -> int:
        async with settings.client() as dji:
            found, names = await _selected(dji, chosen)
        rows = [_converter_row(c, names) for c in found]
        settings.rows(
            "converter", f"{len(rows)} converters", rows, CONVERTER_COLUMNS, CONVERTER_TABLE
        )
        return 0

    run_async(main)


@converters.command("get")
@click.argument("converter_id")
@click.option("--project", "projects", multiple=True, help="Where to look (default: every).")
@pass_settings
def converters_get(settings: Settings, converter_id: str, projects: tuple[str, ...]) -> None:
    """Show one converter by id (the API has no get: the project lists are searched)."""

    async def main() -> int:
        async with settings.client() as dji:
            found, names = await _selected(dji, Selection.build(projects or "all"))
        hits = [c for c in found if c.converter_id == converter_id]
        if not hits:
            raise NothingMatched(f"no converter has the id {converter_id!r}")
        settings.rows("converter", "converter", [_converter_row(hits[0], names)], CONVERTER_COLUMNS)
        return 0

    run_async(main)


@converters.command("update")
@click.argument("converter_id")
@click.option("--name", help="New name.")
@click.option("--url", help="New push URL.")
def converters_update(converter_id: str, name: str | None, url: str | None) -> None:
    """Rename or re-target a converter: not offered by the FlightHub 2 API (exit 5)."""
    report_error(
        NothingMatched(
            "the FlightHub 2 API cannot change a converter's name or URL (its PUT takes only "
            "auto_push_stream): delete it and create it again (`converters delete --name ... "
            "--yes`, then `converters create`)"
        )
    )
    raise SystemExit(int(ExitCode.NOT_FOUND))


@converters.command("export")
@_selection_options
@click.option(
    "--reveal-secrets", is_flag=True, help="Write real push URLs (stream keys); off by default."
)
@pass_settings
def converters_export(settings: Settings, /, reveal_secrets: bool, **selection: Any) -> None:
    """Write the current state as a desired-state TOML file (stdout): `> desired.toml`."""
    chosen = _selection(settings, **selection)

    async def main() -> int:
        async with settings.client() as dji:
            found, names = await _selected(dji, chosen)
        sys.stdout.write(export_toml(found, names, reveal_secrets=reveal_secrets))
        if not reveal_secrets:
            stderr.print("push URLs masked (***): --reveal-secrets writes the real ones")
        return 0

    run_async(main)


@converters.command("create")
@click.option("--project", required=True, help="Project uuid or exact name.")
@click.option(
    "--name", required=True, type=Name(), help="Converter name (unique in the organization)."
)
@click.option("--sn", required=True, type=Name(64), help="Source device serial number.")
@click.option(
    "--camera", required=True, type=Name(64), help="Camera index, e.g. 81-0-0 (devices list)."
)
@click.option("--url", required=True, help="Push target, rtmp://host/app/stream.")
@click.option("--enable", is_flag=True, help="Enable it once created.")
@click.option(
    "--converter-limit",
    type=click.IntRange(min=0),
    help="Organization converter quota (default 20).",
)
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@pass_settings
def converters_create(settings: Settings, /, **opts: Any) -> None:
    """Create a converter; a name that exists already is an error (exit 6), never a duplicate."""
    try:
        spec = CreateSpec(
            project=opts["project"],
            name=opts["name"],
            sn=opts["sn"],
            camera_index=opts["camera"],
            url=opts["url"],
            enabled=True if opts["enable"] else None,
        )
    except aiodji.InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    desired = Desired(create=(spec,), converter_limit=opts["converter_limit"])
    _plan_and_apply(settings, desired, "create", RunOptions(dry_run=opts["dry_run"]))


@attrs.frozen
class RunOptions:
    """The safety rails of a command that applies a plan."""

    dry_run: bool = False
    journal: Path | None = None
    resume: Path | None = None
    retry_failed: Path | None = None
    max_changes: int | None = None


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run / --journal / --resume / --retry-failed / --max-changes."""
    options = [
        click.option("--dry-run", is_flag=True, help="Show the plan, change nothing."),
        click.option(
            "--journal", type=click.Path(path_type=Path), help="Journal file (JSON lines)."
        ),
        click.option(
            "--resume",
            type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help="Journal of an interrupted run: skip what it did, re-check what is unknown.",
        ),
        click.option(
            "--retry-failed",
            type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help="Journal of an earlier run: redo only the changes it records as failed.",
        ),
        click.option(
            "--max-changes",
            type=click.IntRange(min=0),
            help="Refuse (exit 2) a plan of more than N changes.",
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
        settings: Settings,
        /,
        dry_run: bool,
        journal: Path | None,
        resume: Path | None,
        retry_failed: Path | None,
        max_changes: int | None,
        **sel: Any,
    ) -> None:
        desired = Desired.enabled(enabled, _selection(settings, **sel))
        run = RunOptions(dry_run, journal, resume, retry_failed, max_changes)
        _plan_and_apply(settings, desired, verb, run)

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
@_run_options
@pass_settings
def converters_delete(
    settings: Settings,
    /,
    yes: bool,
    dry_run: bool,
    journal: Path | None,
    resume: Path | None,
    retry_failed: Path | None,
    max_changes: int | None,
    **sel: Any,
) -> None:
    """Delete the selected converters (dangerous: needs --yes); needs --name, --device or
    --camera (--name '*' = all)."""
    selection = _selection(settings, **sel)
    if not (selection.names or selection.devices or selection.cameras):
        raise click.UsageError("delete needs --name, --device or --camera (--name '*' for all)")
    if not yes and not dry_run:
        stderr.print("no --yes: showing the plan only", style="yellow")
    desired = Desired(delete=(selection,))
    run = RunOptions(dry_run or not yes, journal, resume, retry_failed, max_changes)
    _plan_and_apply(settings, desired, "delete", run)


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
    retry_failed: Path | None,
    max_changes: int | None,
    queue: str | None = None,
    no_wait: bool = False,
) -> None:
    """Bring converters to the state a desired-state file describes (only what differs)."""
    if queue and not dry_run:
        from .scale import apply_on_queue

        return apply_on_queue(settings, path, queue, wait=not no_wait)
    desired = read_desired(path)
    run = RunOptions(dry_run, journal, resume, retry_failed, max_changes)
    _plan_and_apply(settings, desired, "apply", run)


def read_desired(path: Path) -> Desired:
    """A desired-state file, checked now (bad URL, nothing asked for: exit 2, before any call)."""
    try:
        desired = Desired.from_toml(path)
    except aiodji.InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="--file") from None
    except UnicodeError as exc:  # UTF-16 from a Windows editor, random bytes
        raise click.BadParameter(f"{path} is not UTF-8 text: {exc}", param_hint="--file") from None
    if not (desired.rules or desired.create or desired.delete):
        raise click.BadParameter(
            "the file asks for nothing: no [[converters]], [[create]] or [[delete]]",
            param_hint="--file",
        )
    return desired


def _print_plan(plan: Plan, *, as_json: bool) -> None:
    records = [change_record(c) for c in (*plan.changes, *plan.skipped)]
    if as_json:
        for record in records:
            emit_json({"type": "change", **record})
        emit_json({"type": "plan", **plan.counts, "converter_limit": plan.converter_limit})
        return
    # record key → column title; "skipped" only when something is
    columns = {"action": "action", "project": "project", "converter_name": "converter"}
    columns.update(converter_id="id", sn="sn", camera="camera")
    if plan.skipped:
        columns["skipped"] = "skipped"
    print_table(
        f"plan: {plan.summary()}",
        tuple(columns.values()),
        ([r[k] for k in columns] for r in records),
    )


async def _check_plan(
    dji: aiodji.Client, desired: Desired, plan: Plan, title: str, run: RunOptions
) -> Plan:
    """The rails: --retry-failed narrows, a plan that touches nothing is an error, --max-changes
    caps it, a create whose name exists says so."""
    if run.retry_failed is not None:
        states = read_journal(run.retry_failed)
        failed = {key for key, state in states.items() if state is ItemState.FAILED}
        plan = attrs.evolve(plan, changes=tuple(c for c in plan.changes if c.key in failed))
    if title == "create" and plan.empty and not plan.skipped:
        spec = desired.create[0]
        found = await dji.fleet.converters([spec.project], names=[spec.name])
        ids = ", ".join(c.converter_id for c in found) or "?"
        raise ExistsAlready(f"a converter named {spec.name!r} exists already (id {ids})")
    if plan.empty and not plan.skipped and not plan.unchanged and run.retry_failed is None:
        raise NothingMatched("the selection matches no converter: nothing to do")
    if run.max_changes is not None and len(plan.changes) > run.max_changes:
        raise click.UsageError(
            f"the plan has {len(plan.changes)} changes, more than --max-changes "
            f"{run.max_changes}: nothing changed (see it with --dry-run)"
        )
    return plan


def _plan_and_apply(settings: Settings, desired: Desired, title: str, run: RunOptions) -> None:
    # checked before any request: a journal that cannot be written stops the run up front
    book = None if run.dry_run else writable_journal(run.journal or run.resume or default_journal())

    async def main() -> int:
        async with settings.client() as dji:
            plan = await _check_plan(dji, desired, await dji.fleet.plan(desired), title, run)
            if run.dry_run:
                _print_plan(plan, as_json=settings.json)
                return 0
            if plan.empty and not plan.skipped:
                if settings.json:
                    emit_json({"type": "summary", "succeeded": 0, "unchanged": plan.unchanged})
                else:
                    stdout.print(f"nothing to do ({plan.unchanged} already right)")
                return 0
            assert book is not None
            tally = Tally()
            interrupts = Interrupts()
            interrupts.install()
            try:
                report = await _apply_with_progress(
                    dji, plan, settings, book, run, interrupts, tally
                )
            except asyncio.CancelledError:  # the second Ctrl-C: what is known, how to go on
                print_interrupted(tally, book, as_json=settings.json)
                return EXIT_INTERRUPTED
            finally:
                interrupts.uninstall()
        print_report(f"{title}: {plan.summary()}", report, as_json=settings.json)
        _print_created(tally, as_json=settings.json)
        _print_next_steps(report, tally, book)
        return run_exit_code(report, tally, interrupted=bool(interrupts.count))

    run_async(main)


def _print_next_steps(report: FleetReport, tally: Tally, book: Path) -> None:
    """Why the run stopped early, and the commands that go on with it."""
    if report.already_done:
        stderr.print(
            f"{report.already_done} changes already done (journal, checked against the server)"
        )
    if tally.server_gone:
        stderr.print(
            f"stopped: {STOP_AFTER_CONNECTION_FAILURES} changes in a row could not reach the "
            "server; the rest were not attempted",
            style="red",
        )
    if report.ok:
        return
    lines = [f"journal: {book}"]
    if report.not_attempted or report.unknown:
        lines.append(f"to resume: {resume_command(sys.argv[1:], book)}")
    if report.failed:
        lines.append(f"to retry the failed: {resume_command(sys.argv[1:], book, '--retry-failed')}")
    stderr.print("\n".join(lines), soft_wrap=True)


def run_exit_code(report: BulkReport, tally: Tally, *, interrupted: bool) -> int:
    """0 when every change is done; 130 after Ctrl-C; 7 when every failure is a connection
    failure (the server went away); a single change's own error class (a refused create: 6);
    else 1."""
    if report.ok:
        return 0
    if interrupted:
        return EXIT_INTERRUPTED
    if tally.only_connection_failures:
        return int(ExitCode.CONNECTION)
    if report.accounted == 1 and report.failures and report.failures[0].error is not None:
        return max(int(exit_code_for(report.failures[0].error)), EXIT_FAILED)
    return EXIT_FAILED


def _print_created(tally: Tally, *, as_json: bool) -> None:
    """A create prints the new converter's id (scripts need it: defect 6)."""
    if not as_json:  # the JSON result lines carry converter_id
        for name, converter_id in tally.created:
            stdout.print(f"created {name} {converter_id}", highlight=False)


def _resumed_states(resume: Path | None) -> dict[str, ItemState]:
    """The journal's states, for the progress total (the fleet checks them against the
    server); a cut last line is said, not fatal."""
    if resume is None:
        return {}
    book = read_journal_file(resume)
    if book.torn:
        stderr.print(
            f"warning: the last line of the journal {resume} is cut (a crash mid-write); ignored",
            highlight=False,
            markup=False,
        )
    return book.states


async def _apply_with_progress(
    dji: aiodji.Client,
    plan: Plan,
    settings: Settings,
    journal: Path,
    run: RunOptions,
    interrupts: Interrupts,
    tally: Tally,
) -> Any:
    previous = _resumed_states(run.resume)
    done = sum(1 for c in plan.changes if previous.get(c.key) is ItemState.SUCCEEDED)
    with make_progress() as progress:
        bar = progress.add_task("converters", total=len(plan.changes) + len(plan.skipped) - done)

        def on_result(result: ItemResult[Change, Any]) -> None:
            tally.add(result)
            if tally.server_gone:
                interrupts.stop.set()  # no new items: they stay not_attempted, for --resume
            if result.state is ItemState.NOT_ATTEMPTED:
                # not done: shrink the bar instead of counting it (defect 7)
                total = progress.tasks[0].total or 0
                progress.update(bar, total=max(total - 1, 0))
            else:
                task = progress.tasks[0]
                if task.total is not None and task.completed >= task.total:
                    # a journaled success the server no longer agrees with is made again
                    progress.update(bar, total=task.total + 1)
                progress.advance(bar)
            if settings.json:
                emit_json({"type": "result", **result_record(result)})

        return await dji.fleet.apply(
            plan,
            journal=journal,
            resume=run.resume,
            concurrency=settings.concurrency,
            progress=on_result,
            stop=interrupts.stop,
        )


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
