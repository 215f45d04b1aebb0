"""The global options and what they give access to: the access point, the token (a profile,
AIODJI_TOKEN or a hidden prompt; never printed), the Client, the projects a selection names."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import click

import aiodji
from aiodji.bulk import DEFAULT_CONCURRENCY
from aiodji.fleet import Selection
from aiodji.models import Project

from .exits import NothingMatched
from .output import choose_columns, render_rows, resolve_format
from .params import check_base_url
from .profiles import Profile, profile_token
from .waiting import PATIENCE

__all__ = ["Settings", "one_project", "resolve_access", "resolve_token", "select_projects"]


@attrs.frozen
class Settings:
    """The global options (the token is not one: a profile, AIODJI_TOKEN or a hidden prompt)."""

    base_url: str | None = None
    region: str | None = None
    output: str = "auto"
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None
    columns: tuple[str, ...] | None = None
    wide: bool = False
    profile: Profile | None = None

    @property
    def format(self) -> str:
        """The output format, ``auto`` resolved (table at a terminal, JSON lines in a pipe)."""
        return resolve_format(self.output, isatty=sys.stdout.isatty())

    @property
    def json(self) -> bool:
        """Machine output: bulk commands write JSON lines for every format but ``table``."""
        return self.format != "table"

    @property
    def default_projects(self) -> tuple[str, ...]:
        return self.profile.projects if self.profile is not None else ()

    def access(self, env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
        return resolve_access(self.base_url, self.region, self.profile, env)

    def token(self) -> str:
        global _token_cache
        if _token_cache is None:
            _token_cache = resolve_token(self.profile, os.environ, prompt=_prompt_token)
        return _token_cache

    def client(
        self, *, project_uuid: str | None = None, hooks: aiodji.Hooks | None = None
    ) -> aiodji.Client:
        base_url, region = self.access()
        return aiodji.Client(
            hooks=[PATIENCE.hooks, *([hooks] if hooks is not None else [])],
            token=self.token(),
            base_url=base_url,
            region=region,
            rate_limit=self.rate,
            project_uuid=project_uuid,
        )

    def rows(
        self,
        kind: str,
        title: str,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        table_columns: Sequence[str] | None = None,
    ) -> None:
        """A listing in the chosen format (``--columns`` picks and orders); a table shows
        ``table_columns`` by default (80 columns are few), machine formats every column."""
        shown = choose_columns(columns, self.columns)
        if self.format == "table" and table_columns is not None and not self.columns:
            shown = list(table_columns)
        render_rows(
            rows,
            shown,
            fmt=self.format,
            kind=kind,
            title=title,
            wide=self.wide,
            may_drop=not self.columns,  # columns asked for by name are all shown
        )


_token_cache: str | None = None


def resolve_access(
    base_url: str | None,
    region: str | None,
    profile: Profile | None,
    env: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """Flags, then an explicit profile, then AIODJI_*, then the default profile; none: error."""
    env = os.environ if env is None else env
    if base_url or region:
        return base_url, region
    from_env = (env.get("AIODJI_BASE_URL") or None, env.get("AIODJI_REGION") or None)
    from_profile = (profile.base_url, profile.region) if profile else (None, None)
    explicit = profile is not None and profile.explicit
    for url, reg in (from_profile, from_env) if explicit else (from_env, from_profile):
        if url:  # the flag is checked by click; a variable or a profile here (exit 3)
            try:
                check_base_url(url)
            except aiodji.InvalidArgumentError as exc:
                raise aiodji.ConfigError(f"base URL of the environment or profile: {exc}") from None
        if url or reg:
            return url, reg
    raise aiodji.ConfigError(
        "no access point: give --base-url URL or --region cn|us|eu, set AIODJI_BASE_URL or "
        "AIODJI_REGION, or use a profile (see `aiodji config show`); aiodji never guesses "
        "where to send the token"
    )


def resolve_token(
    profile: Profile | None, env: Mapping[str, str], *, prompt: Callable[[], str | None]
) -> str:
    """An explicit profile's source, then AIODJI_TOKEN, then the default profile's, then a
    hidden prompt at a terminal."""
    from_env = env.get("AIODJI_TOKEN", "").strip() or None
    if profile is not None and profile.explicit:
        token = profile_token(profile, env) or from_env
    else:
        token = from_env or (profile_token(profile, env) if profile else None)
    token = token or prompt()
    if not token:
        raise aiodji.ConfigError(
            "no token: set AIODJI_TOKEN (the organization key), give a profile a token source "
            "(token_env / token_cmd / token_keyring), or run in a terminal to be asked"
        )
    return token


def _prompt_token() -> str | None:
    if not sys.stdin.isatty():
        return None
    # a Ctrl-C here is click.Abort: run_async turns it into exit 130 (defect 2)
    answer: str = click.prompt("Organization key (hidden)", hide_input=True, err=True)
    return answer.strip() or None


async def select_projects(dji: aiodji.Client, chosen: Selection) -> list[Project]:
    """The projects a selection names; none at all (an unknown exact name, a glob that
    matches nothing) is :class:`NothingMatched` (exit 5)."""
    try:
        found = await dji.fleet.projects(chosen)
    except aiodji.InvalidArgumentError as exc:  # the one refusal here: an unknown exact name
        raise NothingMatched(str(exc)) from None
    if not found:
        raise NothingMatched(f"no project matches {', '.join(chosen.projects)}")
    return found


async def one_project(dji: aiodji.Client, wanted: str) -> Project:
    """The project of a uuid, exact name or glob (the first in organization order)."""
    return (await select_projects(dji, Selection.build([wanted])))[0]
