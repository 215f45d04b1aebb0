"""``aiodji doctor``: check the configuration against the server and say plainly what is wrong."""

from __future__ import annotations

import time
from typing import Any

import click
from rich.text import Text

import aiodji
from aiodji.codes import NOT_DEPLOYED_CODES
from aiodji.config import token_claims

from .exits import EXIT_FAILED, ExitCode, exit_code_for
from .printing import emit_json, stdout
from .running import run_async
from .settings import Settings, one_project

__all__ = ["doctor", "token_claims"]

# Claims that say whose key it is and until when; never the signature, never the token.
SHOWN_CLAIMS = ("organization_uuid", "sub", "nbf", "exp")


def failed_check_code(exc: BaseException) -> int:
    """The exit code of the check that failed (its error's class), at least 1."""
    return max(int(exit_code_for(exc)), EXIT_FAILED)


def _when(ts: Any) -> str:
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    return "?"


class _Checks:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.failed = False
        self.code = 0  # the exit code of the first check that failed

    def report(
        self, check: str, ok: bool | None, detail: str, error: BaseException | None = None
    ) -> None:
        """ok=None is a warning (not a failure); ``error`` gives a failure its exit code."""
        if ok is False:
            self.failed = True
            self.code = self.code or (failed_check_code(error) if error else EXIT_FAILED)
        if self.as_json:
            emit_json({"type": "check", "check": check, "ok": ok, "detail": detail})
            return
        mark, style = {True: ("ok", "green"), False: ("FAIL", "red"), None: ("warn", "yellow")}[ok]
        stdout.print(Text.assemble((f"{mark:>4}", style), f"  {check}: {detail}"))


def _explain(exc: aiodji.DJIError) -> str:
    if isinstance(exc, aiodji.APITimeoutError):
        return f"timed out: the host does not answer in time ({exc})"
    if isinstance(exc, aiodji.APIConnectionError):
        return f"cannot connect (DNS, refused, TLS?): {exc}"
    if isinstance(exc, aiodji.ResponseValidationError) or "HTML" in str(exc):
        return f"the server did not answer like FlightHub 2 — wrong base URL or version? ({exc})"
    if isinstance(exc, aiodji.AuthenticationError):
        return f"the token was refused (invalid or expired organization key): {exc}"
    if isinstance(exc, aiodji.PermissionDeniedError):
        return f"the token's user is not a member of this project (out of scope): {exc}"
    return str(exc)


@click.command()
@click.option("--project", help="Also check access to this project (uuid or exact name).")
@click.pass_obj
def doctor(settings: Settings, project: str | None) -> None:
    """Check base URL, token and project access; show the token's organization and expiry
    (never the token itself)."""
    checks = _Checks(settings.json)

    async def main() -> int:
        try:
            client = settings.client()
        except aiodji.ConfigError as exc:
            checks.report("configuration", False, str(exc))
            return int(ExitCode.CONFIG)
        async with client as dji:
            checks.report("base URL", True, dji.base_url)
            claims = token_claims(client.config.token) or {}
            if claims:
                shown = {k: claims[k] for k in SHOWN_CLAIMS if k in claims}
                exp = claims.get("exp")
                expired = isinstance(exp, int | float) and exp < time.time()
                detail = (
                    f"organization {shown.get('organization_uuid', '?')}, "
                    f"expires {_when(exp)}" + (" — EXPIRED" if expired else "")
                )
                checks.report("token claims", not expired, detail)
            else:
                checks.report("token claims", None, "the token is not a JWT: claims not shown")
            try:
                await dji.system.status()
                checks.report("server", True, "system_status answers")
            except aiodji.DJIError as exc:  # its own code: 7 unreachable, 4 refused
                checks.report("server", False, _explain(exc), exc)
                return checks.code
            try:
                found = [p async for p in dji.projects.iter()]
                checks.report("token", True, f"accepted; {len(found)} projects visible")
            except aiodji.DJIError as exc:
                checks.report("token", False, _explain(exc), exc)
                return checks.code
            if project is not None:
                await _check_project(dji, project, checks)
        return checks.code

    run_async(main)


async def _check_project(dji: aiodji.Client, project: str, checks: _Checks) -> None:
    try:
        chosen = await one_project(dji, project)
    except aiodji.DJIError as exc:
        checks.report("project", False, _explain(exc), exc)
        return
    scoped = dji.project(chosen.uuid)
    try:
        pairs = await scoped.projects.devices(project_uuid=chosen.uuid)
        checks.report("project", True, f"{chosen.name}: {len(pairs)} device pairs")
    except aiodji.DJIError as exc:
        checks.report("project", False, _explain(exc), exc)
        return
    try:
        convs = await scoped.converters.list()
        checks.report("converters", True, f"stream forwarding available; {len(convs)} converters")
    except aiodji.APIBusinessError as exc:
        if exc.code in NOT_DEPLOYED_CODES or isinstance(exc, aiodji.NotFoundError):
            checks.report(
                "converters",
                False,
                "stream forwarding is not available on this deployment (private-cloud only): "
                f"{exc}",
            )
        else:
            checks.report("converters", False, _explain(exc))
    except aiodji.NotAvailableError as exc:
        checks.report("converters", False, str(exc))  # says what and why (private cloud only)
    except aiodji.NotFoundError as exc:
        checks.report(
            "converters",
            False,
            f"endpoint not found on this deployment (private-cloud only): {exc}",
        )
    except aiodji.DJIError as exc:
        checks.report("converters", False, _explain(exc))
