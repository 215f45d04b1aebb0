"""The Grafana dashboard (examples/grafana/aiodji.json) queries only series that ``/metrics``
serves: the controller's metrics endpoint is started against the simulator, one reconcile
cycle runs, and every ``aiodji_*`` name in the dashboard's queries must be an exposed series."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

import aiodji
from aiodji.controller.health import serve_metrics
from aiodji.controller.metrics import Metrics
from aiodji.sim import Simulator

DASHBOARD = Path(__file__).resolve().parent.parent / "examples" / "grafana" / "aiodji.json"
METRIC = re.compile(r"\baiodji_[a-z_]+\b")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count")}


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and template variables."""
    exprs = [t["expr"] for p in _panels(dashboard["panels"]) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs.append(query["query"])
        elif variable["type"] == "query":
            exprs.append(query)
    return exprs


def served_series(exposition: str) -> set[str]:
    """Series names a scrape can return, from the ``# TYPE`` lines (a labelled series is
    declared before its first sample)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        base = name.removesuffix("_total") if kind == "counter" else name
        names.update(base + s for s in SUFFIXES.get(kind, ("",)))
    return names


def families_of(names: set[str]) -> set[str]:
    """Metric families, without the exposition's suffixes and ``_created`` companions."""
    return {
        re.sub(r"_(total|bucket|sum|count)$", "", n) for n in names if not n.endswith("_created")
    }


def test_the_dashboard_is_well_formed() -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    panels = list(_panels(dashboard["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "aiodji-overview"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
    assert len(dashboard_queries(dashboard)) >= len(panels) - 3


@pytest.mark.anyio
async def test_every_metric_the_dashboard_queries_is_served(sim: Simulator, tmp_path: Path) -> None:
    desired = tmp_path / "desired.toml"
    desired.write_text('[[converters]]\nprojects = "all"\nenabled = false\n', encoding="utf-8")
    metrics = Metrics()
    async with aiodji.Client(token=sim.token, base_url=sim.url, hooks=metrics.hooks) as dji:
        metrics.watch_limiter(dji.limiter)
        runner, port = await serve_metrics(metrics, 0)
        try:
            await dji.fleet.reconcile(desired, once=True, observer=metrics)
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/metrics") as reply,
            ):
                assert reply.status == 200
                exposition = await reply.text()
        finally:
            await runner.cleanup()
    served = served_series(exposition)
    queried = {
        m
        for q in dashboard_queries(orjson.loads(DASHBOARD.read_bytes()))
        for m in METRIC.findall(q)
    }
    assert queried, "the dashboard queries no aiodji series"
    assert queried <= served, f"queried but never served: {sorted(queried - served)}"
    # the families every panel group is about are all covered
    declared = families_of(set(re.findall(r"^# TYPE (\S+) ", exposition, re.MULTILINE)))
    missing = declared - families_of(queried)
    assert not missing, f"served but not on the dashboard: {sorted(missing)}"
    assert "aiodji_requests_total{" in exposition  # the cycle's calls were counted
