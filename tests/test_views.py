"""Views (``with_options``, ``with_raw_response``): checked and typed like the Client itself."""

from __future__ import annotations

import math
from typing import Any

import pytest
from _servers import first_project

import aiodji
from aiodji.sim import Simulator

pytestmark = pytest.mark.anyio

BAD_SETTINGS: list[dict[str, Any]] = [
    {"timeout": aiodji.Timeouts(connect=-1)},
    {"timeout": aiodji.Timeouts(read=0)},
    {"timeout": aiodji.Timeouts(total=-5)},
    {"timeout": aiodji.Timeouts(read=math.nan)},
    {"timeout": -1},
    {"timeout": "3"},
    {"max_retries": -1},
    {"max_retries": True},
    {"retry": aiodji.RetryPolicy(max_retries=-1)},
    {"retry": aiodji.RetryPolicy(backoff_base=-1.0)},
    {"retry": aiodji.RetryPolicy(backoff_max=math.inf)},
    {"retry": 3},
    {"language": "fr"},
]


@pytest.mark.parametrize("settings", BAD_SETTINGS)
def test_with_options_rejects_what_the_client_rejects(settings: dict[str, Any]) -> None:
    with pytest.raises(aiodji.ConfigError):
        aiodji.Client(token="t", base_url="http://127.0.0.1:9", **settings)
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:9")
    with pytest.raises(aiodji.ConfigError):
        dji.with_options(**settings)


@pytest.mark.parametrize("field", ["budget_ratio", "budget_reserve"])
def test_with_options_rejects_a_retry_budget_it_cannot_apply(field: str) -> None:
    # the budget is the Client's (shared by every view): a view's own would be ignored
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:9")
    with pytest.raises(aiodji.ConfigError, match=f"retry.{field} is Client-wide"):
        dji.with_options(retry=aiodji.RetryPolicy(**{field: 0.0}))
    own = aiodji.RetryPolicy(budget_ratio=0.5, budget_reserve=5.0)
    client = aiodji.Client(token="t", base_url="http://127.0.0.1:9", retry=own)
    view = client.with_options(
        retry=aiodji.RetryPolicy(max_retries=5, budget_ratio=0.5, budget_reserve=5.0)
    )
    assert view._options.retry.max_retries == 5 and client.with_options(max_retries=1)


def test_with_options_keeps_good_settings() -> None:
    dji = aiodji.Client(token="t", base_url="http://127.0.0.1:9")
    view = dji.with_options(timeout=aiodji.Timeouts(connect=1, read=2), max_retries=0)
    assert view._options.timeouts.connect == 1 and view._options.retry.max_retries == 0


async def test_raw_view_iter_is_async_iterable(sim: Simulator, dji: aiodji.Client) -> None:
    project = first_project(sim)
    items = [c async for c in dji.with_raw_response.project(project).converters.iter()]
    assert [c.converter_id for c in items] == [
        c.converter_id for c in sim.state.converters_of(project)
    ]


async def test_raw_client_view_request_and_namespaces(sim: Simulator, dji: aiodji.Client) -> None:
    raw = await dji.with_raw_response.request("GET", "system_status")
    assert isinstance(raw, aiodji.APIResponse) and raw.status == 200
    view = dji.with_raw_response.with_options(max_retries=0).project(first_project(sim))
    listed = await view.livestream.converters.list()
    assert listed.status == 200 and len(listed.parse()) >= 1
