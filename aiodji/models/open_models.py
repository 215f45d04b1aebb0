"""Open modeling (read live): upload your own images to FlightHub 2's store, then reconstruct
from them. Flow: obtain_token → upload with S3 → upload_callback → start → get / running →
stop / delete."""

from __future__ import annotations

import enum

from attrs import field, frozen

from aiodji.redact import masked_repr

__all__ = [
    "OpenModel",
    "OpenModelResource",
    "OpenModelStatus",
    "OpenModelType",
    "OpenModelUploadToken",
    "OpenModelsStarted",
    "OpenModelsUploaded",
    "ResourceStatus",
    "StartedJob",
    "UploadedFile",
    "ZipStatus",
    "object_key",
    "resource_uuid_of",
]

FILE_NAME = "{fileName}"  # the literal placeholder that ends ``store_path``


def object_key(store_path: str, file_name: str) -> str:
    """The S3 object key for ``file_name``: ``store_path`` with its ``{fileName}`` filled in."""
    if FILE_NAME not in store_path:
        raise ValueError("store_path has no {fileName} placeholder")
    if not file_name or "/" in file_name:
        raise ValueError(f"file_name must be a plain file name, got {file_name!r}")
    return store_path.replace(FILE_NAME, file_name)


def resource_uuid_of(store_path: str) -> str:
    """The batch uuid inside ``store_path`` (``.../tmp/<resource_uuid>/{fileName}``): the
    ``resource_uuid`` the later calls need (documented nowhere else,
    docs/explanation/api-notes.md#open-modeling)."""
    parts = [p for p in store_path.split("/") if p]
    if len(parts) < 2 or parts[-1] != FILE_NAME:
        raise ValueError("store_path does not end in /<resource_uuid>/{fileName}")
    return parts[-2]


@frozen
class OpenModelUploadToken:
    """Reply of ``obtain_token``: temporary S3 credentials and where to put the files."""

    cloud_name: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=masked_repr)
    session_token: str | None = field(default=None, repr=masked_repr)
    region: str | None = None
    cloud_bucket_name: str | None = None
    callback_param: str | None = field(default=None, repr=masked_repr)
    store_path: str | None = None
    expire_time: int | str | None = None
    end_point: str | None = None

    @property
    def resource_uuid(self) -> str | None:
        return resource_uuid_of(self.store_path) if self.store_path else None

    def object_key(self, file_name: str) -> str:
        if not self.store_path:
            raise ValueError("the token has no store_path")
        return object_key(self.store_path, file_name)


def _bare_etag(value: object) -> str:
    return str(value).strip().strip('"')


@frozen
class UploadedFile:
    """One entry of ``upload_callback`` ``files``: the name and the S3 etag. S3 answers the
    ETag header in quotes; FlightHub 2 wants it without
    (docs/explanation/api-notes.md#open-modeling), so quotes are dropped here."""

    name: str
    etag: str = field(converter=_bare_etag)


# The integer codes below were seen in another client's enums, not on a DJI page: the model
# fields stay plain ints (a code not listed here is kept), these names are for comparing.
class ResourceStatus(enum.IntEnum):
    """``status`` of an uploaded batch (an integer, read live)."""

    IMPORT_SUCCESS = 1
    WAITING_DELETE = 2
    DELETED = 3


class OpenModelType(enum.IntEnum):
    """``model_type`` of a job: which ``parameter_*`` started it."""

    MODEL_2D = 1
    MODEL_3D = 2
    MODEL_3DGS = 3
    MODEL_LIDAR = 4


class OpenModelStatus(enum.IntEnum):
    """``model_status`` of a job."""

    MAPPING_FAILED = 8
    MAPPING_SUCCESS = 9
    REQUESTING_RESOURCE = 12
    REQUESTING_RESOURCE_FAILED = 13
    RECONSTRUCTION_EXECUTING = 14
    RECONSTRUCTION_SUCCESS = 15
    RECONSTRUCTION_CANCELED = 16


class ZipStatus(enum.IntEnum):
    """``zip_status`` of a job's download archive."""

    INIT = 0
    RUNNING = 1
    FINISH = 2
    FAILED = 3


@frozen
class OpenModelResource:
    """An uploaded batch: ``GET /open_model/resource/{resource_uuid}``. ``status`` is an
    integer (:class:`ResourceStatus`)."""

    resource_uuid: str | None = None
    status: int | None = None
    resource_size: int | None = None
    file_names: list[str] = field(factory=list)


@frozen
class OpenModelsUploaded:
    """Reply of ``upload_callback``: the batch and the files it holds so far."""

    resource_uuid: str | None = None
    upload_count: int | None = None
    file_name_list: list[str] = field(factory=list)


@frozen
class StartedJob:
    """One job a start created: its ``uuid`` is the ``model_uuid`` of the later calls."""

    uuid: str | None = None
    status: int | None = None
    sub_error_code: int | None = None


# reply key of each started kind, in the order the request's ``parameter_*`` are documented
STARTED_KINDS = ("model_2d", "model_3d", "model_3dgs", "model_lidar")


@frozen
class OpenModelsStarted:
    """Reply of a reconstruction start: one entry per requested kind. ``job_ids`` maps each
    started kind (``"3d"``) to its new job's id."""

    model_2d: StartedJob | None = None
    model_3d: StartedJob | None = None
    model_3dgs: StartedJob | None = None
    model_lidar: StartedJob | None = None

    @property
    def jobs(self) -> dict[str, StartedJob]:
        """Each started kind (``"2d"``, ``"3d"``, ``"3dgs"``, ``"lidar"``) → its job."""
        found = ((k.removeprefix("model_"), getattr(self, k)) for k in STARTED_KINDS)
        return {kind: job for kind, job in found if job is not None}

    @property
    def job_ids(self) -> dict[str, str]:
        """Each started kind → the new job's id (``model_uuid`` for get/stop/delete)."""
        return {kind: job.uuid for kind, job in self.jobs.items() if job.uuid}


@frozen
class OpenModel:
    """A reconstruction job (``GET /open_model/models/{model_uuid}``, ``.../running``).
    ``model_type``, ``model_status``, ``zip_status``, ``error_code`` are integers (see
    :class:`OpenModelType`, :class:`OpenModelStatus`, :class:`ZipStatus`)."""

    model_uuid: str | None = None
    resource_uuid: str | None = None
    model_type: int | None = None
    model_status: int | None = None
    model_size: int | None = None
    reconstruction_progress: float | None = None
    error_code: int | None = None
    sub_error_code: int | None = None
    zip_status: int | None = None
    zip_progress: float | None = None
    zip_file_key: str | None = None
