"""The exit codes of ``aiodji``: one table, by error class (README "Exit codes" prints it)."""

from __future__ import annotations

import enum

import click

import aiodji

__all__ = ["EXIT_TABLE", "ExistsAlready", "ExitCode", "NothingMatched", "exit_code_for"]

# Business codes that mean "this deployment does not offer the feature"
# (docs/explanation/api-notes.md#live).
CODES_NOT_AVAILABLE = frozenset({213050, 213051})


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # some items failed (or an error of no other class)
    USAGE = 2  # bad usage or bad input (validation), found before any change
    CONFIG = 3  # configuration: no token, no access point, bad profile
    AUTH = 4  # the server refused the token (401/403)
    NOT_FOUND = 5  # not found, or not available on this deployment
    BUSINESS = 6  # the server said no (an error business code)
    CONNECTION = 7  # could not reach the server (DNS, connect, TLS, timeout)
    INTERNAL = 70  # a bug of ours: one line, the traceback in a crash file (aiodji.crash)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


EXIT_TABLE: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success: every item done (or nothing needed doing)"),
    (ExitCode.FAILED, "some items failed or were not done; an unexpected server reply"),
    (ExitCode.USAGE, "usage or validation error: bad option, bad file, bad URL, refused plan"),
    (ExitCode.CONFIG, "configuration error: no token, no access point, bad profile"),
    (ExitCode.AUTH, "authentication: the token was refused (401/403)"),
    (ExitCode.NOT_FOUND, "not found, or not available on this deployment"),
    (ExitCode.BUSINESS, "business error: the server answered with an error code"),
    (ExitCode.CONNECTION, "connection: DNS, connect, TLS or timeout"),
    (ExitCode.INTERNAL, "internal error: a bug of ours (one line; the traceback in a crash file)"),
    (ExitCode.INTERRUPTED, "interrupted by Ctrl-C (the journal and resume command are printed)"),
)


class NothingMatched(aiodji.DJIError):
    """A selection or id that matches nothing, or a feature the API does not offer (exit 5)."""


class ExistsAlready(aiodji.DJIError):
    """A create whose name exists already: nothing was created (exit 6)."""


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code of an error; the order matters (a business 404 is 'not found')."""
    if isinstance(exc, aiodji.ConfigError):
        return ExitCode.CONFIG
    if isinstance(exc, click.UsageError | aiodji.InvalidArgumentError):
        return ExitCode.USAGE
    if isinstance(exc, aiodji.AuthenticationError | aiodji.PermissionDeniedError):
        return ExitCode.AUTH
    if isinstance(exc, aiodji.NotFoundError | NothingMatched):
        return ExitCode.NOT_FOUND
    if isinstance(exc, ExistsAlready):
        return ExitCode.BUSINESS
    if isinstance(exc, aiodji.APIBusinessError):
        return ExitCode.NOT_FOUND if exc.code in CODES_NOT_AVAILABLE else ExitCode.BUSINESS
    if isinstance(exc, aiodji.APIConnectionError):
        return ExitCode.CONNECTION
    if isinstance(exc, KeyboardInterrupt | click.Abort):
        return ExitCode.INTERRUPTED
    return ExitCode.FAILED
