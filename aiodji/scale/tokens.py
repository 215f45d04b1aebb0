"""Token providers: a worker finds an organization's token by reference, so tokens never
travel in queue messages. ``env:NAME`` reads the environment variable NAME; ``file:NAME``
reads entry NAME of a token file (TOML or JSON ``{name = "token"}``, path in
``AIODJI_TOKEN_FILE`` or ``--tokens``)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import orjson

from aiodji.config import ConfigError

__all__ = ["DEFAULT_TOKEN_REF", "TokenProvider", "TokenRefs"]

DEFAULT_TOKEN_REF = "env:AIODJI_TOKEN"


class TokenProvider(Protocol):
    def token_for(self, ref: str) -> str: ...


class TokenRefs:
    """The default provider: ``env:`` references from ``env``, ``file:`` ones from a map file."""

    def __init__(
        self, *, env: Mapping[str, str] | None = None, file: str | os.PathLike[str] | None = None
    ) -> None:
        self._env = os.environ if env is None else env
        path = file if file is not None else self._env.get("AIODJI_TOKEN_FILE")
        self._file = Path(path) if path else None
        self._map: dict[str, str] | None = None

    def token_for(self, ref: str) -> str:
        scheme, _, name = ref.partition(":")
        token: object = None
        if scheme == "env":
            token = self._env.get(name)
        elif scheme == "file":
            token = self._file_map().get(name)
        else:
            # never echo it: a token pasted where a reference belongs must not be printed
            raise ConfigError("a token reference is env:NAME or file:NAME")
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(f"no token for {ref!r}")
        return token.strip()

    def _file_map(self) -> dict[str, str]:
        if self._map is None:
            if self._file is None:
                raise ConfigError("a file: token reference needs AIODJI_TOKEN_FILE or --tokens")
            try:
                text = self._file.read_text(encoding="utf-8")
                data = orjson.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
            except (OSError, ValueError) as exc:
                # the message names the file, never its content
                raise ConfigError(
                    f"cannot read the token file {self._file}: {type(exc).__name__}"
                ) from None
            self._map = {str(k): v for k, v in data.items() if isinstance(v, str)}
        return self._map
