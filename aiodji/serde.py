"""The cattrs converters, built once: lenient for use, strict for contract tests.

Lenient (DESIGN rule 4): unknown keys are ignored and unknown enum values are kept (see
:class:`aiodji.models.OpenStrEnum`), so a new server field never crashes a user.
Strict: extra keys are an error; used by tests to keep models and the simulator honest.

Field metadata understood here (see :func:`aiodji.models.wire` and :func:`aiodji.models.local`):
``wire`` renames a field on the wire (``device_class`` ↔ ``class``); ``local`` marks a field the
client fills in itself (never read from or written to the wire).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import make_converter

__all__ = ["LENIENT", "STRICT", "SerdeError", "structure", "unstructure"]

T = TypeVar("T")

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
        return make_dict_structure_fn(
            cl,
            conv,
            _cattrs_forbid_extra_keys=strict,
            _cattrs_detailed_validation=strict,
            **_overrides(cl),
        )

    def unstructure_factory(cl: type) -> Callable[[Any], Any]:
        return make_dict_unstructure_fn(cl, conv, _cattrs_omit_if_default=False, **_overrides(cl))

    conv.register_structure_hook(bool, _structure_bool)
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
