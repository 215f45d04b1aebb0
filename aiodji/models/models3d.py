"""Models of 3D reconstruction models (API.md §9).

Reconstruction is asynchronous: create returns an id, then the model shows up in the list and
moves to a finished status. Only ``name`` and ``reconstruction_type`` (an array) are documented;
the reply field names here are guesses and every field but ``id`` is optional.
"""

from __future__ import annotations

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum
from aiodji.redact import masked_repr

__all__ = ["Model3D", "Model3DCreated", "Model3DStatus"]


class Model3DStatus(OpenStrEnum):
    """Reconstruction progress (values not documented; a guess, unknown values kept)."""

    WAITING = "waiting"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (Model3DStatus.SUCCESS, Model3DStatus.FAILED)


@frozen
class Model3DCreated:
    """Reply of ``POST /model/create``: the model id (§9.3; key name guessed)."""

    id: str


@frozen
class Model3D:
    """A reconstruction model. ``preview_url``/``download_url`` (detail only, may be signed) are
    masked in ``repr``."""

    id: str
    name: str | None = None
    status: Model3DStatus | None = None
    progress: int | None = None  # percent
    reconstruction_type: list[str] | None = None
    created_at: int | None = None  # unix s
    updated_at: int | None = None
    preview_url: str | None = field(default=None, repr=masked_repr)
    download_url: str | None = field(default=None, repr=masked_repr)
