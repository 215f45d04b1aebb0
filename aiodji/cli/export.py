"""``converters export``: the current converters as a desired-state file (``[[create]]`` each).

Push URLs carry stream keys: they are masked unless ``--reveal-secrets``. Applying an export
changes nothing (every name exists), so a masked URL is never sent anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import orjson

from aiodji.models import Converter
from aiodji.redact import mask_url

__all__ = ["export_toml"]


def _quoted(text: str) -> str:
    return orjson.dumps(text).decode()  # a JSON string is a valid TOML basic string


def export_toml(
    converters: Iterable[Converter], projects: Mapping[str, str | None], *, reveal_secrets: bool
) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [f"# aiodji converters export, {stamp}"]
    if not reveal_secrets:
        lines.append("# push URLs masked (***): export with --reveal-secrets for the real ones")
    for c in converters:
        url = c.url if reveal_secrets else mask_url(c.url)
        project = projects.get(c.project_uuid or "") or c.project_uuid or ""
        lines += ["", "[[create]]", f"project = {_quoted(project)}"]
        lines.append(f"name = {_quoted(c.converter_name or c.converter_id)}")
        lines.append(f"sn = {_quoted(c.sn or '')}")
        lines.append(f"camera_index = {_quoted(c.camera or '')}")
        if url:
            lines.append(f"url = {_quoted(url)}")
        lines.append(f"enabled = {'true' if c.auto_push_stream else 'false'}")
    return "\n".join(lines) + "\n"
