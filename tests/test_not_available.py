"""A documented path that answers 404 with no API reply means "not on this deployment"
(docs/explanation/api-notes.md#live):
a typed NotAvailableError, never retried, reported per project by the fleet plan."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from _servers import LocalServers
from aiohttp import web

import aiodji
from aiodji.envelope import AttemptFailed, judge_reply
from aiodji.fleet import Desired

TOKEN = "eyJhbGciOi.secret-token-value.sig"
PROJECTS = [{"uuid": "p1", "name": "One"}, {"uuid": "p2", "name": "Two"}]


def _envelope(data: Any) -> web.Response:
    return web.Response(
        body=orjson.dumps({"code": 0, "message": "", "data": data}),
        content_type="application/json",
    )


async def _public_like(request: web.Request) -> web.StreamResponse:
    """A gateway without stream forwarding: converters answer 404 with an empty body."""
    if request.path == "/openapi/v0.1/project":
        return _envelope({"list": PROJECTS})
    if request.path.startswith("/openapi/v0.1/live-stream/converter"):
        return web.Response(status=404)
    return _envelope({})


@pytest.mark.anyio
async def test_converters_on_a_gateway_without_forwarding_say_so() -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return await _public_like(request)

    async with LocalServers() as servers:
        url = await servers.add(handler)
        async with aiodji.Client(token=TOKEN, base_url=url) as dji:
            with pytest.raises(aiodji.NotAvailableError) as err:
                await dji.project("p1").converters.list()
    assert isinstance(err.value, aiodji.NotFoundError)
    assert err.value.attempts == 1 and len(hits) == 1  # never retried
    assert "not available on this deployment" in str(err.value)
    assert TOKEN not in str(err.value)


@pytest.mark.anyio
async def test_fleet_plan_reports_unavailable_projects_instead_of_failing() -> None:
    async with LocalServers() as servers:
        url = await servers.add(_public_like)
        async with aiodji.Client(token=TOKEN, base_url=url) as dji:
            desired = Desired.from_dict({"converters": [{"enabled": False}]})
            plan = await dji.fleet.plan(desired)
    assert set(plan.unavailable) == {"p1", "p2"} and plan.empty
    assert "without stream forwarding" in plan.summary()


def test_a_json_404_stays_a_plain_not_found() -> None:
    body = orjson.dumps({"code": 404, "message": "no such converter"})
    with pytest.raises(AttemptFailed) as failed:
        judge_reply(404, {"Content-Type": "application/json"}, body)
    assert type(failed.value.error) is aiodji.NotFoundError


def test_an_html_404_points_at_the_base_url_not_the_deployment() -> None:
    with pytest.raises(AttemptFailed) as failed:
        judge_reply(404, {"Content-Type": "text/html"}, b"<html>nope</html>")
    assert not isinstance(failed.value.error, aiodji.NotAvailableError)


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, b""), (200, orjson.dumps({"code": 200401, "message": "token invalid"}))],
)
def test_a_public_gateway_401_mentions_the_region(status: int, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    for public in (True, False):
        with pytest.raises(AttemptFailed) as failed:
            judge_reply(status, headers, body, public_gateway=public)
        assert isinstance(failed.value.error, aiodji.AuthenticationError)
        assert ("another region" in str(failed.value.error)) is public
