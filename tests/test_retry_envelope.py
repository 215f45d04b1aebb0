"""Pure rules: retry decision, backoff, Retry-After, envelope judging. No network."""

from __future__ import annotations

import random

import orjson
import pytest

import aiodji
from aiodji.envelope import AttemptFailed, judge_reply
from aiodji.errors import business_error_class
from aiodji.retry import (
    Failure,
    RetryBudget,
    RetryPolicy,
    backoff,
    decide,
    parse_retry_after,
    should_retry,
)

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
def test_connect_failures_retry_for_every_method(method: str) -> None:
    assert should_retry(method, Failure.CONNECT)


@pytest.mark.parametrize(("method", "expected"), [("GET", True), ("PUT", True), ("POST", False)])
def test_io_failures_retry_only_idempotent(method: str, expected: bool) -> None:
    assert should_retry(method, Failure.IO) is expected
    assert should_retry(method, Failure.STATUS, status=503) is expected
    assert should_retry(method, Failure.STATUS, status=408) is expected
    assert should_retry(method, Failure.STATUS, status=200, code=210504) is expected


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rate_limit_retries_for_every_method(method: str) -> None:
    assert should_retry(method, Failure.STATUS, status=429)
    assert should_retry(method, Failure.STATUS, status=200, code=210429)


@pytest.mark.parametrize(
    ("status", "code"), [(400, None), (401, None), (404, None), (200, 200401), (200, 213029)]
)
def test_client_errors_never_retry(status: int, code: int | None) -> None:
    assert not should_retry("GET", Failure.STATUS, status=status, code=code)


def test_backoff_doubles_with_bounded_jitter_and_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(1)
    for attempt, nominal in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 4.0)]:
        for _ in range(50):
            delay = backoff(attempt, policy, rng)
            assert nominal * 0.75 <= delay <= nominal


def test_retry_after_wins_up_to_its_cap() -> None:
    policy = RetryPolicy(retry_after_max=10)
    rate_limited = {"retries": 0, "waits": 0, "budget_left": True, "rate_limited": True}
    assert decide("PUT", Failure.STATUS, policy, retry_after=3.0, **rate_limited).delay == 3.0
    assert not decide("PUT", Failure.STATUS, policy, retry_after=30.0, **rate_limited).retry


def test_other_failures_back_off() -> None:
    # only a rate-limited reply carries Retry-After (aiodji.envelope): the rest back off
    policy = RetryPolicy(backoff_base=0.5)
    decision = decide(
        "GET", Failure.STATUS, policy, retries=0, waits=0, budget_left=True, status=503
    )
    assert decision.retry and decision.spends and 0.375 <= decision.delay <= 0.5


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date_in_future() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_retry_budget_stops_storms_and_refills() -> None:
    budget = RetryBudget(ratio=0.5, reserve=3)
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    budget.deposit()
    budget.deposit()
    assert budget.try_spend()
    assert not budget.try_spend()


def _fail(status: int, body: bytes, headers: dict[str, str] | None = None) -> AttemptFailed:
    with pytest.raises(AttemptFailed) as info:
        judge_reply(status, headers or JSON, body)
    return info.value


def test_success_returns_data() -> None:
    body = orjson.dumps({"code": 0, "message": "OK", "data": {"a": 1}})
    assert judge_reply(200, JSON, body) == {"a": 1}
    assert judge_reply(200, JSON, b'{"code":0,"message":""}') is None


def test_business_code_is_business_error_with_meaning() -> None:
    failed = _fail(200, orjson.dumps({"code": 213029, "message": "nope", "data": None}))
    err = failed.error
    assert type(err) is aiodji.APIBusinessError
    assert err.code == 213029
    assert err.meaning == "converter not found"
    assert "213029" in str(err)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (200401, aiodji.AuthenticationError),
        (200403, aiodji.PermissionDeniedError),
        (200404, aiodji.NotFoundError),
        (210429, aiodji.RateLimitError),
        (210500, aiodji.InternalServerError),
    ],
)
def test_status_like_codes_are_both_kinds(code: int, cls: type[Exception]) -> None:
    err = _fail(200, orjson.dumps({"code": code, "message": "x"})).error
    assert isinstance(err, cls)
    assert isinstance(err, aiodji.APIBusinessError)
    assert business_error_class(code) is type(err)


def test_rate_limit_code_reads_retry_after() -> None:
    err = _fail(200, b'{"code":210429,"message":"slow"}', {**JSON, "Retry-After": "2"}).error
    assert isinstance(err, aiodji.RateLimitError)
    assert err.retry_after == 2.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, aiodji.BadRequestError),
        (401, aiodji.AuthenticationError),
        (403, aiodji.PermissionDeniedError),
        (404, aiodji.NotFoundError),
        (429, aiodji.RateLimitError),
        (500, aiodji.InternalServerError),
        (503, aiodji.InternalServerError),
        (418, aiodji.APIStatusError),
    ],
)
def test_http_statuses_map_to_classes(status: int, cls: type[Exception]) -> None:
    failed = _fail(status, b'{"code":1,"message":"m"}')
    assert type(failed.error) is cls
    assert not isinstance(failed.error, aiodji.APIBusinessError)


def test_html_page_says_wrong_base_url() -> None:
    failed = _fail(200, b"<!doctype html><html>hi</html>", {"Content-Type": "text/html"})
    assert isinstance(failed.error, aiodji.ResponseValidationError)
    assert "wrong base URL?" in str(failed.error)
    assert failed.error.body.startswith(b"<!doctype")
    assert not failed.retryable
    assert "wrong base URL?" in str(_fail(404, b"<html>404</html>", {}).error)


def test_cut_json_is_retryable_io() -> None:
    failed = _fail(200, b'{"code":0,"mess')
    assert isinstance(failed.error, aiodji.ResponseValidationError)
    assert failed.failure is Failure.IO and failed.retryable


@pytest.mark.parametrize("body", [b"[]", b'{"message":"x"}', b'{"code":"0"}', b"null", b"3"])
def test_json_that_is_not_the_envelope(body: bytes) -> None:
    assert isinstance(_fail(200, body).error, aiodji.ResponseValidationError)


def test_redirect_is_not_followed() -> None:
    failed = _fail(302, b"", {"Location": "https://elsewhere.example/"})
    assert isinstance(failed.error, aiodji.APIStatusError)
    assert "redirect not followed" in str(failed.error)
    assert not failed.retryable


def test_message_is_the_servers_and_str_explains() -> None:
    err = _fail(200, b'{"code":213029,"message":"no such converter","data":null}').error
    assert err.message == "no such converter"
    assert "213029" in str(err) and "converter not found" in str(err)
    quiet = _fail(200, b'{"code":213029,"message":""}').error
    assert quiet.message == "converter not found"
    http = _fail(503, b'{"code":1,"message":"busy"}').error
    assert http.message == "busy" and "HTTP 503" in str(http)


def test_meaning_is_not_repeated_when_the_message_says_it() -> None:
    err = _fail(200, b'{"code":233317,"message":"converter count over limit"}').error
    assert str(err).count("over limit") == 1


@pytest.mark.parametrize("code", [b"false", b"true"])
def test_a_bool_code_is_not_an_envelope(code: bytes) -> None:
    failed = _fail(200, b'{"code":' + code + b',"message":"x"}')
    assert isinstance(failed.error, aiodji.ResponseValidationError)
