"""Profiles: ``$XDG_CONFIG_HOME/aiodji/config.toml`` (``~/.config`` by default).

```toml
default_profile = "prod"

[profiles.prod]
region = "us"                 # or base_url = "https://fh2.example:30812"
projects = ["Site *"]         # default --project for converter commands
rate = 20                     # requests/s
concurrency = 16
token_env = "FH2_PROD_TOKEN"  # the token source: an environment variable name,
# token_cmd = "pass fh2/prod" #   a command whose first output line is the token,
# token_keyring = "fh2-prod"  #   a keyring service (with `keyring` installed),
# token = "..."               #   or the key itself: only when the file is mode 0600
```

Precedence: command-line flags, then an explicit ``--profile``, then ``AIODJI_*`` variables,
then the default profile. The token is never printed (``aiodji config show`` redacts it).
"""

from __future__ import annotations

import math
import os
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from aiodji.config import ConfigError

__all__ = ["Profile", "config_path", "load_profile", "profile_token"]

TOKEN_CMD_TIMEOUT = 30.0
KNOWN_KEYS = frozenset(
    {
        "base_url",
        "region",
        "projects",
        "rate",
        "concurrency",
        "token_env",
        "token_cmd",
        "token_keyring",
        "token",
    }
)


@attrs.frozen
class Profile:
    name: str
    path: Path | None = None
    explicit: bool = False  # chosen with --profile / AIODJI_PROFILE (wins over AIODJI_*)
    base_url: str | None = None
    region: str | None = None
    projects: tuple[str, ...] = ()
    rate: float | None = None
    concurrency: int | None = None
    token_env: str | None = None
    token_cmd: str | None = None
    token_keyring: str | None = None
    token: str | None = attrs.field(default=None, repr=False)

    def shown(self) -> dict[str, Any]:
        """What ``config show`` prints: every setting, the token source but never a token."""
        source = (
            f"env {self.token_env}"
            if self.token_env
            else f"command {self.token_cmd!r}"
            if self.token_cmd
            else f"keyring {self.token_keyring}"
            if self.token_keyring
            else "config file (redacted: ***)"
            if self.token
            else None
        )
        return {
            "profile": self.name,
            "file": None if self.path is None else str(self.path),
            "base_url": self.base_url,
            "region": self.region,
            "projects": list(self.projects),
            "rate": self.rate,
            "concurrency": self.concurrency,
            "token_source": source,
        }


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "aiodji" / "config.toml"


def load_profile(name: str | None, env: Mapping[str, str] | None = None) -> Profile | None:
    """The named profile (an error if missing), else the file's default profile, else None."""
    env = os.environ if env is None else env
    explicit = name or env.get("AIODJI_PROFILE") or None
    path = config_path(env)
    if not path.exists():
        if explicit:
            raise ConfigError(f"no profile {explicit!r}: {path} does not exist")
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    profiles = data.get("profiles", {})
    chosen = explicit or data.get("default_profile")
    if chosen is None:
        return None
    if not isinstance(profiles, dict) or not isinstance(profiles.get(chosen), dict):
        raise ConfigError(f"no profile {chosen!r} in {path}")
    return _profile(chosen, profiles[chosen], path, explicit=bool(explicit))


def _profile(name: str, table: dict[str, Any], path: Path, *, explicit: bool) -> Profile:
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"profile {name!r}: unknown setting {', '.join(unknown)} in {path}")
    if "token" in table and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(
            f"{path} holds a token but is readable by others: chmod 600 it, or use "
            "token_env / token_cmd / token_keyring"
        )
    projects = table.get("projects", ())
    if isinstance(projects, str):
        projects = (projects,)
    try:
        chosen = Profile(
            name=name,
            path=path,
            explicit=explicit,
            base_url=_text(table, "base_url"),
            region=_text(table, "region"),
            projects=tuple(str(p) for p in projects),
            rate=None if table.get("rate") is None else float(table["rate"]),
            concurrency=None if table.get("concurrency") is None else int(table["concurrency"]),
            token_env=_text(table, "token_env"),
            token_cmd=_text(table, "token_cmd"),
            token_keyring=_text(table, "token_keyring"),
            token=_text(table, "token"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"profile {name!r} in {path}: {exc}") from None
    if chosen.rate is not None and not (math.isfinite(chosen.rate) and chosen.rate > 0):
        raise ConfigError(f"profile {name!r} in {path}: rate must be a number > 0")
    if chosen.concurrency is not None and not 0 < chosen.concurrency <= 1024:
        raise ConfigError(f"profile {name!r} in {path}: concurrency must be 1 to 1024")
    return chosen


def _text(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{key} must be a string, got {type(value).__name__}")


def profile_token(profile: Profile, env: Mapping[str, str] | None = None) -> str | None:
    """The token from the profile's source, or None when it names none."""
    env = os.environ if env is None else env
    if profile.token_env:
        token = env.get(profile.token_env, "").strip()
        if not token:
            raise ConfigError(f"profile {profile.name!r}: ${profile.token_env} is not set")
        return token
    if profile.token_cmd:
        return _token_from_command(profile)
    if profile.token_keyring:
        return _token_from_keyring(profile)
    return profile.token.strip() if profile.token else None


def _token_from_command(profile: Profile) -> str:
    assert profile.token_cmd is not None
    try:
        done = subprocess.run(
            shlex.split(profile.token_cmd),
            capture_output=True,
            text=True,
            timeout=TOKEN_CMD_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise ConfigError(f"profile {profile.name!r}: token_cmd failed: {exc}") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        # its stderr is not shown: a password manager may echo more than we want in logs
        raise ConfigError(
            f"profile {profile.name!r}: token_cmd exited {done.returncode} without a token"
        )
    return lines[0].strip()


def _token_from_keyring(profile: Profile) -> str:
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ConfigError(
            f"profile {profile.name!r}: token_keyring needs the keyring package "
            "(pip install keyring)"
        ) from None
    token = keyring.get_password(profile.token_keyring, profile.name)
    if not token:
        raise ConfigError(
            f"profile {profile.name!r}: no keyring entry {profile.token_keyring}/{profile.name}"
        )
    return str(token).strip()
