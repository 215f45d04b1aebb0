"""Open modeling (docs/explanation/api-notes.md#open-modeling): upload your own images to FlightHub
2's store, then
reconstruct from them. Flow: obtain_token → upload with S3 → upload_callback → start → get /
running → stop / delete."""

from __future__ import annotations

from attrs import field, frozen

from aiodji.redact import masked_repr

__all__ = [
    "OpenModel",
    "OpenModelResource",
    "OpenModelUploadToken",
    "UploadedFile",
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


@frozen
class OpenModelResource:
    """An uploaded batch: ``GET /open_model/resource/{resource_uuid}``."""

    resource_uuid: str | None = None
    status: str | int | None = None
    resource_size: int | None = None
    file_names: list[str] = field(factory=list)


@frozen
class OpenModel:
    """A reconstruction job (``GET /open_model/models/{model_uuid}``, ``.../running``)."""

    model_uuid: str | None = None
    resource_uuid: str | None = None
    model_type: str | None = None
    model_status: str | int | None = None
    model_size: int | None = None
    reconstruction_progress: float | None = None
    error_code: int | None = None
    zip_status: str | int | None = None
    zip_progress: float | None = None
    zip_file_key: str | None = None
