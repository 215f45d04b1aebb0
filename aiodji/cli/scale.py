"""The scale-out commands (extra ``aiodji[scale]``): ``aiodji worker``, ``aiodji runs show``,
and ``converters apply --queue`` (enqueue the shards, then one progress bar over the results).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._common import (
    EXIT_FAILED,
    EXIT_USAGE,
    Settings,
    emit_json,
    fail,
    make_progress,
    run_async,
    stderr,
    stdout,
)

__all__ = ["apply_on_queue", "runs", "worker"]

_queue_option = click.option(
    "--queue",
    "queue",
    required=True,
    envvar="AIODJI_QUEUE",
    help="Redis URL of the shared budget and the shard queue (env AIODJI_QUEUE).",
)


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
@click.pass_obj
def worker(
    settings: Settings,
    queue: str,
    tokens: Path | None,
    max_shards: int,
    idle_timeout: float,
    lease: float,
) -> None:
    """Work the shards of `converters apply --queue` runs until stopped (Ctrl-C)."""
    broker = _scale()
    from aiodji.scale.tokens import TokenRefs

    async def main() -> int:
        stderr.print(f"worker: {max_shards} shards at a time, {settings.concurrency} changes each")
        await broker.run_worker(
            queue,
            tokens=TokenRefs(file=tokens),
            max_shards=max_shards,
            concurrency=settings.concurrency,
            idle_timeout_ms=int(idle_timeout * 1000),
            lease_seconds=lease,
        )
        return 0

    run_async(main, needs_token=False)  # tokens come from the token provider, per organization


@click.group()
def runs() -> None:
    """Scaled-out runs recorded in Redis."""


@runs.command("show")
@click.argument("run_id")
@_queue_option
def runs_show(run_id: str, queue: str) -> None:
    """Print a run's results in the journal format (JSON lines)."""
    _scale()
    from redis.asyncio import Redis

    from aiodji.scale.runs import RunStore

    async def main() -> int:
        async with Redis.from_url(queue) as redis:
            lines = await RunStore(redis).journal_lines(run_id)
        if len(lines) == 1 and "total" not in lines[0].decode():
            fail(f"no run {run_id!r} in {queue.split('@')[-1]}")
        for line in lines:
            sys.stdout.write(line.decode() + "\n")
        return 0

    run_async(main, needs_token=False)  # tokens come from the token provider, per organization


def apply_on_queue(settings: Settings, path: Path, queue: str, *, wait: bool) -> None:
    """``converters apply -f FILE --queue URL``: plan, enqueue shards, follow the results."""
    _scale()
    from redis.asyncio import Redis

    from aiodji.scale.controller import enqueue_run
    from aiodji.scale.organizations import load_organizations
    from aiodji.scale.runs import FINAL, RunStore

    async def main() -> int:
        orgs = load_organizations(path, base_url=settings.base_url)
        run = await enqueue_run(queue, orgs)
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
        states: dict[str, str] = {}
        async with Redis.from_url(queue) as redis:
            with make_progress() as progress:
                bar = progress.add_task("converters", total=run.total)
                async for entry in RunStore(redis).follow(run.run_id):
                    if entry.get("state") in FINAL:
                        states[entry["key"]] = entry["state"]
                        progress.update(bar, completed=len(states))
                        if settings.json:
                            emit_json(entry)
                    if len(states) >= run.total:
                        break
        failed = sum(s != "succeeded" for s in states.values())
        summary = {"succeeded": len(states) - failed, "not_succeeded": failed}
        if settings.json:
            emit_json({"type": "summary", "run_id": run.run_id, **summary})
        else:
            stdout.print(f"run {run.run_id}: {summary['succeeded']} succeeded, {failed} not")
        return EXIT_FAILED if failed else 0

    run_async(main, needs_token=False)  # tokens come from the token provider, per organization
