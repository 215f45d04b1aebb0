"""Models of 3D reconstruction models (docs/explanation/api-notes.md#models3d).

Reconstruction is asynchronous: create returns an integer ``id``; the model then shows up in the
list. List items carry ``id, name, file_type, show_on_map, size, create_at, update_at``; the
detail adds ``user_name``, ``url`` (the download link) and ``preview_url``.
"""

from __future__ import annotations

import datetime as dt

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum, aka
from aiodji.redact import masked_repr

__all__ = ["Model3D", "Model3DCreate", "Model3DCreated", "Model3DStatus"]


class Model3DStatus(OpenStrEnum):
    """Reconstruction progress (values not documented; a guess, unknown values kept)."""

    WAITING = "waiting"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (Model3DStatus.SUCCESS, Model3DStatus.FAILED)


@frozen(kw_only=True)
class Model3DCreate:
    """Body of ``POST /model/create`` (docs/explanation/api-notes.md#live). ``task_folder_id`` is a
    flight task's
    ``folder_id``; ``wkt`` the output coordinate system as WKT text (the "coordinate systems"
    page is a table of such strings). Unset (None) fields are not sent."""

    name: str
    task_folder_id: int | str
    reconstruction_type: list[str]
    generate_model_formats: list[str] | None = None
    wkt: str | None = None
    quality_level: str | None = None  # e.g. "medium"
    reconstruction_mode: str | None = None  # e.g. "normal"
    simplified_factor: float | None = None  # e.g. 0.2
    predefine_area: object | None = None  # shape not documented: sent as given


@frozen
class Model3DCreated:
    """Reply of ``POST /model/create``: ``{"id"}``, an integer
    (docs/explanation/api-notes.md#live)."""

    id: int


@frozen
class Model3D:
    """A reconstruction model (docs/explanation/api-notes.md#live). ``url`` (download) and
    ``preview_url`` (detail only,
    may be signed) are masked in ``repr``. Guessed older names (``download_url``,
    ``created_at``) are read too."""

    id: int
    name: str | None = None
    file_type: str | None = None
    show_on_map: bool | None = None
    size: int | None = None
    create_at: dt.datetime | None = aka("created_at", default=None)
    update_at: dt.datetime | None = aka("updated_at", default=None)
    user_name: str | None = None
    url: str | None = aka("download_url", default=None, repr=masked_repr)
    preview_url: str | None = field(default=None, repr=masked_repr)
    status: Model3DStatus | None = None  # not in the live replies; kept if a server sends it
    progress: int | None = None

    @property
    def download_url(self) -> str | None:
        return self.url
