"""Error classes: real classes (named, picklable), one business-code table for every reader."""

from __future__ import annotations

import pickle

import orjson
import pytest

import aiodji
from aiodji import codes, errors, retry
from aiodji.envelope import AttemptFailed, judge_reply

JSON = {"Content-Type": "application/json"}


def _error(status: int, body: bytes) -> aiodji.APIError:
    with pytest.raises(AttemptFailed) as info:
        judge_reply(status, JSON, body)
    error = info.value.error
    assert isinstance(error, aiodji.APIError)
    error.method, error.path, error.request_id, error.attempts = "GET", "/p", "rid-1", 3
    return error


@pytest.mark.parametrize("code", [*sorted(codes.BUSINESS_CODE_STATUS), 213029, 777])
def test_business_errors_pickle_with_every_field(code: int) -> None:
    error = _error(200, orjson.dumps({"code": code, "message": "m"}))
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert back.__dict__ == error.__dict__
    assert str(back) == str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 418])
def test_status_errors_pickle(status: int) -> None:
    error = _error(status, b'{"code":1,"message":"no"}')
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and back.status_code == status and str(back) == str(error)


def test_other_errors_pickle() -> None:
    for error in (
        aiodji.APIConnectionError("reset", method="GET", path="/x", attempts=2),
        aiodji.ResponseValidationError("bad", body=b"x", status_code=200),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and back.__dict__ == error.__dict__


def test_http_status_error_is_exactly_the_public_class() -> None:
    assert type(_error(401, b"")) is aiodji.AuthenticationError
    assert type(_error(429, b"")) is aiodji.RateLimitError


def test_business_variants_are_module_classes_named_for_what_they_are() -> None:
    error = _error(200, b'{"code":200401,"message":"bad token"}')
    assert type(error) is errors.BusinessAuthenticationError
    assert type(error).__name__ != "AuthenticationError"  # the name no longer lies
    assert isinstance(error, aiodji.AuthenticationError)
    assert isinstance(error, aiodji.APIBusinessError)
    assert getattr(errors, type(error).__name__) is type(error)


def test_retry_and_meanings_read_the_one_table() -> None:
    assert retry.TRANSIENT_CODES is codes.TRANSIENT_CODES
    assert retry.RATE_LIMIT_CODE == codes.RATE_LIMIT_CODE
    assert {210318, 210500, 210504} == codes.TRANSIENT_CODES
    for code, meaning in codes.BUSINESS_CODE_MEANINGS.items():
        assert aiodji.errors.business_code_meaning(code) == meaning
    assert codes.BUSINESS_CODE_STATUS[codes.RATE_LIMIT_CODE] == 429
