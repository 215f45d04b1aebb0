"""The scale-out commands (extra ``aiodji[scale]``): ``aiodji worker``, ``aiodji runs show``,
``aiodji runs cancel``, and ``converters apply --queue`` (enqueue the shards, then one progress
bar over the results).

Redis trouble ends in one line, ``cannot reach Redis at redis://host:port`` (never the
password), exit 7; a bad ``--queue`` URL is a usage error (exit 2).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from .exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, ExitCode, NothingMatched
from .printing import emit_json, fail, make_progress, stderr, stdout
from .running import run_async
from .settings import Settings

__all__ = ["apply_on_queue", "runs", "worker"]

_queue_option = click.option(
    "--queue",
    "queue",
    required=True,
    envvar="AIODJI_QUEUE",
    help="Redis URL of the shared budget and the shard queue (env AIODJI_QUEUE).",
)
PATIENCE_ENV = "AIODJI_QUEUE_PATIENCE"  # seconds the enqueuer waits for Redis (default 120)


def _scale() -> Any:
    try:
        import aiodji.scale.broker as broker
    except ImportError:
        fail("the scale commands need the extra: pip install 'aiodji[scale]'", EXIT_USAGE)
    return broker


@click.command()
@_queue_option
@click.option("--tokens", type=click.Path(path_type=Path, dir_okay=False), help="Token file map.")
@click.option("--shards", "max_shards", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option(
    "--idle-timeout",
    default=120.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds before a silent worker's shard is taken over.",
)
@click.option(
    "--lease",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds a dead worker's shard stays locked.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def worker(
    settings: Settings,
    queue: str,
    tokens: Path | None,
    max_shards: int,
    idle_timeout: float,
    lease: float,
    log_format: str,
) -> None:
    """Work the shards of `converters apply --queue` runs until stopped (Ctrl-C).

    Logs at INFO on stderr: start, Redis lost / back, each shard taken / done / given up."""
    broker = _scale()
    from aiodji.controller.logs import setup_logging
    from aiodji.scale.sealing import load_sealer
    from aiodji.scale.tokens import TokenRefs

    async def main() -> int:
        try:
            await broker.run_worker(
                queue,
                tokens=TokenRefs(file=tokens),
                max_shards=max_shards,
                concurrency=settings.concurrency,
                idle_timeout_ms=int(idle_timeout * 1000),
                lease_seconds=lease,
                sealer=load_sealer(),
            )
        except Exception as exc:  # the worker's error boundary: known errors go to run_async
            import aiodji
            from aiodji.crash import report_internal_error

            if isinstance(exc, aiodji.DJIError):
                raise
            stderr.print(report_internal_error(exc, entry="worker"), markup=False)
            return int(ExitCode.INTERNAL)
        return 0

    handler = setup_logging(log_format)
    taskiq_log = logging.getLogger("taskiq")  # its errors only, in the worker's own format
    taskiq_log.addHandler(handler)
    taskiq_log.setLevel(logging.ERROR)
    taskiq_log.propagate = False
    run_async(main, needs_token=False)  # tokens come from the token provider, per organization


@click.group()
def runs() -> None:
    """Scaled-out runs recorded in Redis."""


@runs.command("show")
@click.argument("run_id")
@_queue_option
def runs_show(run_id: str, queue: str) -> None:
    """Print a run's results in the journal format (JSON lines); the header's status says
    running, cancelled or finished."""
    _scale()

    async def main() -> int:
        lines = await _with_store(queue, lambda store: store.journal_lines(run_id))
        if lines is None:
            raise NothingMatched(f"no run {run_id!r} in {_where(queue)}")
        for line in lines:
            sys.stdout.write(line.decode() + "\n")
        return 0

    run_async(main, needs_token=False)


@runs.command("cancel")
@click.argument("run_id")
@_queue_option
def runs_cancel(run_id: str, queue: str) -> None:
    """Stop a run: workers take none of its shards any more (their changes end not_attempted);
    changes in flight finish and are recorded."""
    _scale()

    async def main() -> int:
        if not await _with_store(queue, lambda store: store.cancel(run_id)):
            raise NothingMatched(f"no run {run_id!r} in {_where(queue)}")
        stderr.print(f"run {run_id} cancelled: in-flight changes finish", markup=False)
        return 0

    run_async(main, needs_token=False)


def _where(queue: str) -> str:
    from aiodji.scale.redis_access import redis_location

    return redis_location(queue)


async def _with_store(queue: str, action: Any) -> Any:
    """``await action(RunStore)`` on the queue's Redis; Redis away: one line, exit 7."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from aiodji.scale.redis_access import check_queue_url, unreachable
    from aiodji.scale.runs import RunStore

    check_queue_url(queue)
    try:
        async with Redis.from_url(queue) as redis:
            return await action(RunStore(redis))
    except RedisError:
        raise unreachable(queue) from None


def apply_on_queue(settings: Settings, path: Path, queue: str, *, wait: bool) -> None:
    """``converters apply -f FILE --queue URL``: plan, enqueue shards, follow the results."""
    _scale()
    from aiodji.scale.controller import enqueue_run
    from aiodji.scale.organizations import load_organizations
    from aiodji.scale.redis_access import check_queue_url
    from aiodji.scale.sealing import load_sealer

    async def main() -> int:
        check_queue_url(queue)
        base_url, region = _access(settings)
        orgs = load_organizations(path, base_url=base_url, region=region)
        run = await enqueue_run(queue, orgs, sealer=load_sealer())
        if settings.json:
            emit_json(
                {
                    "type": "run",
                    "run_id": run.run_id,
                    "changes": run.total,
                    "shards": run.shards,
                    "unchanged": run.unchanged,
                }
            )
        else:
            stderr.print(f"run {run.run_id}: {run.total} changes in {run.shards} shards")
        if not wait or not run.total:
            return 0
        return await _follow(settings, queue, run.run_id, run.total)

    run_async(main, needs_token=False)  # tokens come from the token provider, per organization


def _access(settings: Settings) -> tuple[str | None, str | None]:
    """The command line's or the profile's access point; none is fine when every
    organization of the file names its own (the client says so otherwise)."""
    import aiodji

    try:
        return settings.access()
    except aiodji.ConfigError:
        return None, None


async def _follow(settings: Settings, queue: str, run_id: str, total: int) -> int:
    """One progress bar over the run's results; Redis away is waited out (reading on from the
    last result) for ``AIODJI_QUEUE_PATIENCE`` seconds; Ctrl-C: the summary so far."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from aiodji.scale.redis_access import run_commands, unreachable
    from aiodji.scale.runs import FINAL, RunStore

    states: dict[str, str] = {}
    patience = _patience()
    try:
        async with Redis.from_url(queue) as redis:
            with make_progress() as progress:
                bar = progress.add_task("converters", total=total)
                async for entry in RunStore(redis).follow(run_id, patience=patience):
                    if entry.get("state") in FINAL:
                        states[entry["key"]] = entry["state"]
                        progress.update(bar, completed=len(states))
                        if settings.json:
                            emit_json(entry)
                    if len(states) >= total:
                        break
    except RedisError:
        _summary(settings, run_id, states, stopped="redis unreachable")
        hint = f"; run {run_id} is enqueued, workers may still be working"
        stderr.print(run_commands(run_id, queue), markup=False, highlight=False)
        raise unreachable(queue, hint) from None
    except asyncio.CancelledError:  # Ctrl-C: the workers go on until `runs cancel`
        _summary(settings, run_id, states, stopped="interrupted")
        stderr.print(
            f"interrupted: run {run_id} goes on on the workers\n{run_commands(run_id, queue)}",
            markup=False,
            highlight=False,
        )
        return int(EXIT_INTERRUPTED)
    failed = _summary(settings, run_id, states)
    return EXIT_FAILED if failed else 0


def _summary(
    settings: Settings, run_id: str, states: dict[str, str], stopped: str | None = None
) -> int:
    failed = sum(s != "succeeded" for s in states.values())
    summary = {"succeeded": len(states) - failed, "not_succeeded": failed}
    if settings.json:
        record: dict[str, Any] = {"type": "summary", "run_id": run_id, **summary}
        if stopped:
            record["stopped"] = stopped
        emit_json(record)
    else:
        so_far = " so far" if stopped else ""
        stdout.print(
            f"run {run_id}: {summary['succeeded']} succeeded, {failed} not{so_far}", markup=False
        )
    return failed


def _patience() -> float:
    from aiodji.scale.runs import FOLLOW_PATIENCE

    try:
        return max(0.0, float(os.environ.get(PATIENCE_ENV, FOLLOW_PATIENCE)))
    except ValueError:
        return FOLLOW_PATIENCE
