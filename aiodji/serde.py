"""The cattrs converters, built once: lenient for use, strict for contract tests.

Lenient (the default): unknown keys are ignored, unknown enum values are kept (see
:class:`aiodji.models.OpenStrEnum`), and a field whose value does not fit its type (an integer
where the model has a list, a word where it has an integer) is kept as sent and logged once per
(model, field) — so a server that types a field differently never fails a call.
Strict: extra keys and misfit values are errors; used by tests to keep models and the simulator
honest.

Field metadata understood here (see :func:`aiodji.models.wire` and :func:`aiodji.models.local`):
``wire`` renames a field on the wire (``device_class`` ↔ ``class``); ``local`` marks a field the
client fills in itself (never read from or written to the wire); ``aliases`` lists other
spellings the server may use (see :func:`aiodji.models.aka`).

Two live facts hold for every model: a list field sent as ``null`` reads as ``[]``, and a
``datetime`` field reads unix seconds (or milliseconds) as well as RFC 3339 strings, always as an
aware datetime.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import make_converter

__all__ = ["LENIENT", "STRICT", "SerdeError", "structure", "unstructure"]

T = TypeVar("T")

log = logging.getLogger("aiodji")

# What a reply that does not fit its model can raise while structuring.
SerdeError = (
    cattrs.BaseValidationError,
    cattrs.StructureHandlerNotFoundError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
)


def _overrides(cl: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in attrs.fields(cl):
        if a.metadata.get("local"):
            out[a.name] = override(omit=True)
        elif "wire" in a.metadata:
            out[a.name] = override(rename=a.metadata["wire"])
    return out


def _wire_name(a: attrs.Attribute[Any]) -> str:
    return str(a.metadata.get("wire", a.name))


def _prepare(cl: type) -> Callable[[Any], Any] | None:
    """A pre-pass over a class's reply dict: alias spellings → the wire name, ``null`` → absent
    for list fields with a default (so the default ``[]`` applies); None when nothing to do."""
    attrs.resolve_types(cl)
    renames: list[tuple[str, tuple[str, ...]]] = []
    null_lists: list[str] = []
    for a in attrs.fields(cl):
        if a.metadata.get("local"):
            continue
        aliases = a.metadata.get("aliases", ())
        if aliases:
            renames.append((_wire_name(a), tuple(aliases)))
        if get_origin(a.type) is list and a.default is not attrs.NOTHING:
            null_lists.append(_wire_name(a))
    if not renames and not null_lists:
        return None

    def prepare(data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for name, aliases in renames:
            for alias in aliases:
                if alias in out:
                    value = out.pop(alias)
                    out.setdefault(name, value)
        for name in null_lists:
            if name in out and out[name] is None:
                del out[name]
        return out

    return prepare


# (model, field) pairs already logged as kept-as-sent: one line each per process, not per reply
_MISFITS_LOGGED: set[tuple[str, str]] = set()


def _kept_as_sent(cl: type, name: str, value: Any, exc: BaseException) -> Any:
    key = (cl.__qualname__, name)
    if key not in _MISFITS_LOGGED:
        _MISFITS_LOGGED.add(key)
        # the types only, never the value: a misfit field may hold a secret
        log.warning(
            "reply field %s.%s does not fit its type (%s): kept as sent (a %s)",
            cl.__qualname__,
            name,
            type(exc).__name__,
            type(value).__name__,
        )
    return value


def _salvage(conv: cattrs.Converter, cl: type, data: Any) -> Any:
    """Build ``cl`` field by field after the fast path failed: each value that does not fit its
    type is kept as sent. A missing required field or a non-mapping still fails."""
    if not isinstance(data, Mapping):
        raise TypeError(f"expected an object for {cl.__name__}, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for a in attrs.fields(cl):
        name = _wire_name(a)
        if a.metadata.get("local") or name not in data:
            continue
        value = data[name]
        try:
            kwargs[a.alias] = conv.structure(value, a.type)
        except SerdeError as exc:
            kwargs[a.alias] = _kept_as_sent(cl, a.name, value, exc)
    return cl(**kwargs)


def _structure_int(value: Any, _: type) -> int:
    """An integer, or a float / digit string that is one exactly. cattrs' default is
    ``int(value)``, which turns 2.5 into 2: a lossy reading is a misfit, not a value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"not an integer: {value!r}")


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    """Unix seconds (ms when it is too large for seconds), digits, or RFC 3339 → aware UTC-or-
    offset datetime. Live task times are strings, documented project times ints
    (docs/explanation/api-notes.md#live)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.strip())
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    raise ValueError(f"not a time: {value!r}")


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _structure_bool(value: Any, _: type) -> bool:
    """A JSON bool, or 0/1 and "true"/"false" (seen in some deployments' string fields).

    cattrs' default is ``bool(value)``, which reads "false" as True: wrong for a flag like
    ``auto_push_stream`` that decides what a fleet plan does.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"not a boolean: {value!r}")


def _make(strict: bool) -> cattrs.Converter:
    conv = make_converter(forbid_extra_keys=strict, detailed_validation=strict)

    def structure_factory(cl: type) -> Callable[[Any, type], Any]:
        base: Callable[[Any, type], Any] = make_dict_structure_fn(
            cl,
            conv,
            _cattrs_forbid_extra_keys=strict,
            _cattrs_detailed_validation=strict,
            **_overrides(cl),
        )
        prepare = _prepare(cl)
        if strict:
            return base if prepare is None else (lambda data, t: base(prepare(data), t))

        def lenient(data: Any, t: type) -> Any:
            data = data if prepare is None else prepare(data)
            try:
                return base(data, t)
            except SerdeError:  # the fast path stays free; only a misfit reply pays
                return _salvage(conv, cl, data)

        return lenient

    def unstructure_factory(cl: type) -> Callable[[Any], Any]:
        return make_dict_unstructure_fn(cl, conv, _cattrs_omit_if_default=False, **_overrides(cl))

    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return conv


LENIENT: cattrs.Converter = _make(strict=False)
STRICT: cattrs.Converter = _make(strict=True)


def structure(data: Any, cls: Any, *, strict: bool = False) -> Any:
    """Structure ``data`` into ``cls`` (a model class or a type like ``list[Model]``)."""
    return (STRICT if strict else LENIENT).structure(data, cls)


def unstructure(value: Any) -> Any:
    """A model (or list/dict of models) as plain JSON-ready data, with wire names."""
    return LENIENT.unstructure(value)
