"""A desired-state file naming several organizations.

```toml
[[organizations]]
name = "acme"                      # how results and shards name it
token = "env:ACME_TOKEN"           # a token reference (tokens.py), never the token
base_url = "https://fh2.acme.example"   # optional; or region = "cn" | "us" | "eu"
# the usual desired-state keys, for this organization only:
converter_limit = 20
[[organizations.converters]]
projects = "all"
enabled = false
```

A file without ``[[organizations]]`` is one organization (token ``env:AIODJI_TOKEN``). An
organization without its own access point uses the caller's (``--base-url``, ``--region`` or the
profile's).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs

from aiodji.errors import InvalidArgumentError
from aiodji.fleet import Desired

from .tokens import DEFAULT_TOKEN_REF

__all__ = ["Organization", "load_organizations"]


@attrs.frozen
class Organization:
    name: str
    token_ref: str
    base_url: str | None
    desired: Desired
    region: str | None = None


def load_organizations(
    path: str | Path, *, base_url: str | None = None, region: str | None = None
) -> list[Organization]:
    """The file's organizations; ``base_url`` / ``region``: the access point of those that
    name none (the command line's or the profile's)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read the desired-state file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgumentError(f"the desired-state file is not valid TOML: {exc}") from None
    tables = data.pop("organizations", None)
    if tables is None:
        desired = Desired.from_dict(data)
        return [Organization("default", DEFAULT_TOKEN_REF, base_url, desired, region)]
    if data:
        raise InvalidArgumentError("with [[organizations]], every key belongs inside one")
    if not isinstance(tables, list) or not tables:
        raise InvalidArgumentError("organizations must be an array of tables ([[organizations]])")
    orgs: list[Organization] = []
    for i, table in enumerate(tables):
        table = dict(table)
        name, ref, url, own_region = (
            table.pop("name", None),
            table.pop("token", None),
            table.pop("base_url", None),
            table.pop("region", None),
        )
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(f"[[organizations]] #{i + 1}: name is required")
        if not isinstance(ref, str) or ":" not in ref:
            raise InvalidArgumentError(
                f"[[organizations]] {name!r}: token = 'env:NAME' or 'file:NAME' is required"
            )
        if url is not None and not isinstance(url, str):
            raise InvalidArgumentError(f"[[organizations]] {name!r}: base_url must be a string")
        if own_region is not None and own_region not in ("cn", "us", "eu"):
            raise InvalidArgumentError(f"[[organizations]] {name!r}: region is cn, us or eu")
        desired = Desired.from_dict(table)
        if url or own_region:  # its own access point: the caller's does not apply
            orgs.append(Organization(name, ref, url, desired, own_region))
        else:
            orgs.append(Organization(name, ref, base_url, desired, region))
    if len({o.name for o in orgs}) != len(orgs):
        raise InvalidArgumentError("[[organizations]] names must be unique")
    return orgs
