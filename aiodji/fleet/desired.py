"""The desired state of a fleet's converters, in Python or from a TOML file.

```toml
# optional: the organization's converter quota (docs/explanation/api-notes.md#converter-limit)
converter_limit = 20

[[converters]]                # every converter these filters select gets this state
projects = "all"              # or ["Site A", "Site B*", "<project uuid>"]
devices = ["1581F*"]          # optional: device sn or callsign globs
cameras = ["81-0-0"]          # optional: camera indexes
names = ["dock-*-wide"]       # optional: converter name globs
enabled = false

[[create]]                    # converters that must exist (created when missing)
project = "Site A"            # uuid or exact name
name = "site-a-dock-1-wide"   # unique: how aiodji recognises it on later runs
sn = "1581F001D0010001"
camera_index = "81-0-0"
url = "rtmp://media.example/live/site-a-1"
enabled = true                # optional (default: leave it disabled as created)

[[delete]]                    # converters that must not exist; needs a name or device filter
projects = ["Site B"]
names = ["old-*"]
```

Later ``[[converters]]`` rules win over earlier ones for the same converter; ``[[delete]]`` wins
over both; a ``[[create]]`` entry's ``enabled`` wins for the converter it creates.
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from aiodji.errors import InvalidArgumentError
from aiodji.redact import MASK, masked_repr

from .selection import ALL, Selection

__all__ = [
    "CreateSpec",
    "Desired",
    "DesiredFileError",
    "StateRule",
    "check_not_masked",
    "check_push_url",
    "decode_desired_file",
]

_RULE_KEYS = frozenset({"projects", "devices", "cameras", "names", "enabled"})
_CREATE_KEYS = frozenset(
    {"project", "name", "sn", "camera_index", "url", "schema", "schema_option", "enabled"}
)
_TOP_KEYS = frozenset({"converter_limit", "converters", "create", "delete"})
# byte-order marks Windows editors write; the text after one is decoded, not refused
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DesiredFileError(InvalidArgumentError):
    """A desired-state file that cannot be used: unreadable, not text, not TOML, or not a
    valid desired state (exit 2; the controller keeps its last good state on this error)."""


def decode_desired_file(data: bytes) -> str:
    """The text of a desired-state file: UTF-8, or UTF-8 / UTF-16 after a byte-order mark.

    UTF-16 without a mark is refused by name (it is not guessable from a few NUL bytes in
    general, but its ASCII TOML is: every other byte is NUL).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DesiredFileError(f"not valid {encoding} text after its mark: {exc}") from None
    if _looks_utf16(data[:64]):
        raise DesiredFileError(
            "the file looks like UTF-16 without a byte-order mark: save it as UTF-8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesiredFileError(
            f"the file is not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from None


@attrs.frozen
class StateRule:
    """Every selected converter should be enabled (True) or disabled (False)."""

    selection: Selection
    enabled: bool


@attrs.frozen
class CreateSpec:
    """A converter that must exist in ``project`` (uuid or name), known by its unique ``name``."""

    project: str
    name: str
    sn: str
    camera_index: str
    url: str | None = attrs.field(default=None, repr=masked_repr)
    schema: str = "rtmp"
    schema_option: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    enabled: bool | None = None

    def __attrs_post_init__(self) -> None:
        # checked when the file or option is read, not at apply
        check_not_masked(self.url, self.schema_option, self.name)
        if self.schema == "rtmp":
            check_push_url(self.url or (self.schema_option or {}).get("url"), self.name)


def _has_mask(value: object) -> bool:
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, Mapping):
        return any(_has_mask(v) for v in value.values())
    return False


def check_not_masked(url: object, option: Mapping[str, Any] | None, name: str = "") -> None:
    """A URL or option value carrying the mask (a default export writes ``rtmp://h/live/***``)
    would create a converter that pushes to a literal ``***`` stream key: refused."""
    if _has_mask(url) or _has_mask(option):
        where = f"{name!r}: " if name else ""
        raise InvalidArgumentError(
            f"{where}masked URL: export with --reveal-secrets (a default export masks stream "
            "keys and passwords as ***)"
        )


def check_push_url(url: object, name: str = "") -> None:
    """An RTMP push target: ``rtmp://host/app/stream`` (or rtmps://)."""
    where = f"{name!r}: " if name else ""
    if not isinstance(url, str) or not url.strip():
        raise InvalidArgumentError(f"{where}an rtmp converter needs url = 'rtmp://...'")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
        # no echo of the URL: its path is a stream key
        raise InvalidArgumentError(
            f"{where}the push URL must look like rtmp://host/app/stream (got scheme "
            f"{parts.scheme or 'none'!r})"
        )


@attrs.frozen
class Desired:
    """State rules, converters to create, selections to delete, and the quota."""

    rules: tuple[StateRule, ...] = ()
    create: tuple[CreateSpec, ...] = ()
    delete: tuple[Selection, ...] = ()
    converter_limit: int | None = None

    @classmethod
    def enabled(cls, enabled: bool, selection: Selection | None = None) -> Desired:
        """One rule: every selected converter enabled (or disabled)."""
        return cls(rules=(StateRule(selection or Selection(), enabled),))

    @classmethod
    def from_toml(cls, source: str | Path) -> Desired:
        """Parse a desired-state file (a path) or TOML text (a str containing a newline).

        Every problem is a :class:`DesiredFileError` (an :class:`InvalidArgumentError`)."""
        try:
            if isinstance(source, Path) or "\n" not in source:
                text = decode_desired_file(_read_bytes(Path(source)))
            else:
                text = source
            return cls.from_dict(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise DesiredFileError(f"the desired-state file is not valid TOML: {exc}") from None
        except DesiredFileError:
            raise
        except InvalidArgumentError as exc:
            raise DesiredFileError(str(exc)) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Desired:
        _no_unknown_keys("the desired state", data, _TOP_KEYS)
        limit = data.get("converter_limit")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise InvalidArgumentError("converter_limit must be an integer >= 0")
        rules = tuple(_rule(r, i) for i, r in enumerate(_tables(data, "converters")))
        creates = tuple(_create(c, i) for i, c in enumerate(_tables(data, "create")))
        deletes = tuple(_delete(d, i) for i, d in enumerate(_tables(data, "delete")))
        names = [c.name for c in creates]
        if len(set(names)) != len(names):
            raise InvalidArgumentError("[[create]] names must be unique")
        return cls(rules=rules, create=creates, delete=deletes, converter_limit=limit)


def _looks_utf16(head: bytes) -> bool:
    """ASCII text in UTF-16: every other byte (the even or the odd ones) is NUL."""
    half = len(head) // 2
    return half > 0 and max(head[0::2].count(0), head[1::2].count(0)) * 4 >= half * 3


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise DesiredFileError(f"cannot read the desired-state file {path}: a directory") from None
    except OSError as exc:
        # strerror, not str(exc): one short reason, the path said once
        reason = exc.strerror or type(exc).__name__
        raise DesiredFileError(f"cannot read the desired-state file {path}: {reason}") from None


def _tables(data: Mapping[str, Any], key: str) -> Sequence[Mapping[str, Any]]:
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise InvalidArgumentError(f"{key} must be an array of tables ([[{key}]])")
    return tables


def _no_unknown_keys(where: str, table: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InvalidArgumentError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")


def _selection(table: Mapping[str, Any], where: str) -> Selection:
    try:
        return Selection.build(
            projects=table.get("projects", ALL),
            devices=table.get("devices"),
            cameras=table.get("cameras"),
            names=table.get("names"),
        )
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}") from None


def _rule(table: Mapping[str, Any], i: int) -> StateRule:
    where = f"[[converters]] #{i + 1}"
    _no_unknown_keys(where, table, _RULE_KEYS)
    enabled = table.get("enabled")
    if not isinstance(enabled, bool):
        raise InvalidArgumentError(f"{where}: enabled = true or false is required")
    return StateRule(_selection(table, where), enabled)


def _create(table: Mapping[str, Any], i: int) -> CreateSpec:
    where = f"[[create]] #{i + 1}"
    _no_unknown_keys(where, table, _CREATE_KEYS)
    text: dict[str, str] = {}
    for key in ("project", "name", "sn", "camera_index"):
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidArgumentError(f"{where}: {key} (a non-empty string) is required")
        text[key] = value
    url = table.get("url")
    option = table.get("schema_option")
    schema = table.get("schema", "rtmp")
    enabled = table.get("enabled")
    if url is not None and not isinstance(url, str):
        raise InvalidArgumentError(f"{where}: url must be a string")
    if option is not None and not isinstance(option, Mapping):
        raise InvalidArgumentError(f"{where}: schema_option must be a table")
    if not isinstance(schema, str):
        raise InvalidArgumentError(f"{where}: schema must be a string")
    if schema == "rtmp" and not (url or (option or {}).get("url")):
        raise InvalidArgumentError(f"{where}: an rtmp converter needs url = 'rtmp://...'")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidArgumentError(f"{where}: enabled must be true or false")
    try:
        return _spec(text, url, schema, option, enabled)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}") from None


def _spec(
    text: dict[str, str],
    url: str | None,
    schema: str,
    option: Mapping[str, Any] | None,
    enabled: bool | None,
) -> CreateSpec:
    return CreateSpec(
        project=text["project"],
        name=text["name"],
        sn=text["sn"],
        camera_index=text["camera_index"],
        url=url,
        schema=schema,
        schema_option=option,
        enabled=enabled,
    )


def _delete(table: Mapping[str, Any], i: int) -> Selection:
    where = f"[[delete]] #{i + 1}"
    _no_unknown_keys(where, table, _RULE_KEYS - {"enabled"})
    selection = _selection(table, where)
    if not (selection.names or selection.devices or selection.cameras):
        # deleting every converter of a project must be spelled out: names = ["*"]
        raise InvalidArgumentError(f"{where}: give names, devices or cameras (names = ['*'] = all)")
    return selection
