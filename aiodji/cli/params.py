"""Option values checked where click parses them, so a bad one is a usage error (exit 2) in
one line, never a traceback from deep inside: finite numbers, access-point URLs, ports, a
listening address, and the optional extras a command needs.

Every command module may use these (``controller run`` for ``--metrics-port``/``--metrics-host``).
"""

from __future__ import annotations

import errno
import importlib
import math
import socket
import unicodedata
from types import ModuleType
from typing import Any

import click
import yarl

import aiodji

__all__ = [
    "BASE_URL",
    "PORT",
    "AddressInUse",
    "BaseURL",
    "FiniteFloat",
    "Name",
    "check_base_url",
    "check_listen_address",
    "require_extra",
]


class FiniteFloat(click.FloatRange):
    """A float range that refuses ``nan`` and ``inf`` (both pass a plain ``FloatRange``:
    ``nan < 0.1`` is false, and ``inf`` meets any minimum)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def check_base_url(text: str) -> str:
    """An access point: ``http(s)://host[:port][/path]`` with a valid port; else InvalidArgument."""
    try:
        url = yarl.URL(text)
        port = url.port  # parses the port: out of range raises ValueError
    except (ValueError, TypeError) as exc:
        raise aiodji.InvalidArgumentError(f"not a URL: {text!r} ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise aiodji.InvalidArgumentError(
            f"not an access point URL: {text!r} (want http(s)://host[:port])"
        )
    if port is not None and not 0 < port < 65536:
        raise aiodji.InvalidArgumentError(f"port {port} out of range 1-65535 in {text!r}")
    return text


class Name(click.types.StringParamType):
    """A name or index typed by an operator: not blank, no control characters, at most
    ``max_length`` characters (a pasted megabyte is a mistake, caught before any request)."""

    name = "text"

    def __init__(self, max_length: int = 256) -> None:
        self.max_length = max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = super().convert(value, param, ctx)
        if not text.strip():
            self.fail("must not be empty", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"{len(text)} characters: at most {self.max_length}", param, ctx)
        if any(unicodedata.category(c) == "Cc" for c in text):
            self.fail("must not contain control characters", param, ctx)
        return text


class BaseURL(click.types.StringParamType):
    """``--base-url``: checked by :func:`check_base_url` when parsed."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return check_base_url(super().convert(value, param, ctx))
        except aiodji.InvalidArgumentError as exc:
            self.fail(str(exc), param, ctx)


BASE_URL = BaseURL()
PORT = click.IntRange(0, 65535)  # 0: any free port


class AddressInUse(aiodji.APIConnectionError):
    """A port to listen on is taken: a connection-class failure (exit 7)."""


def check_listen_address(host: str, port: int) -> None:
    """Before serving on ``host:port``: an unresolvable host is a usage error (exit 2), a busy
    port is :class:`AddressInUse` (exit 7). The probe socket is closed again at once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise click.BadParameter(f"cannot resolve {host!r}: {exc}", param_hint="host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AddressInUse(f"cannot listen on {host}:{port}: address in use") from None
            raise click.BadParameter(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def require_extra(module: str, extra: str) -> ModuleType:
    """Import ``module`` or say which extra to install (a usage error, exit 2)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise click.UsageError(
            f"this needs the extra '{extra}' ({exc.name or module} is not installed): "
            f"pip install 'aiodji[{extra}]'"
        ) from None
