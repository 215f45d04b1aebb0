"""Models of organization projects, project devices, storage credentials, members
(docs/explanation/api-notes.md#projects)."""

from __future__ import annotations

import datetime as dt

from attrs import field, frozen

from aiodji.models._base import OpenStrEnum
from aiodji.redact import masked_repr

__all__ = [
    "Member",
    "MemberRole",
    "Project",
    "SortType",
    "StsCredentials",
    "StsToken",
    "WorkCenterPoint",
]


class MemberRole(OpenStrEnum):
    """A member's role in a project (docs/explanation/api-notes.md#projects, [secondary])."""

    MEMBER = "project-member"
    ADMIN = "project-admin"


class SortType(OpenStrEnum):
    """Sort direction of the project list (``sort_type``,
    docs/explanation/api-notes.md#projects)."""

    ASC = "ASC"
    DESC = "DESC"


@frozen(kw_only=True)
class Member:
    """One entry of ``add_users`` in ``PUT /project/member`` (docs/explanation/api-notes.md#live:
    an upsert of several users)."""

    user_id: str
    role: MemberRole = MemberRole.MEMBER
    nickname: str | None = None


@frozen
class WorkCenterPoint:
    """A project's map centre (WGS84 degrees)."""

    latitude: float | None = None
    longitude: float | None = None


@frozen
class Project:
    """A project of the organization (docs/explanation/api-notes.md#projects). ``uuid`` is what
    ``X-Project-Uuid`` carries."""

    uuid: str
    name: str | None = None
    introduction: str | None = None
    org_uuid: str | None = None
    project_work_center_point: WorkCenterPoint | None = None
    created_at: dt.datetime | None = None  # documented as unix seconds; aware datetime here
    updated_at: dt.datetime | None = None


@frozen
class StsCredentials:
    """Temporary S3-compatible keys; ``expire`` is their lifetime in seconds.

    Names follow the DJI Cloud API / FlightHub client code (``data.credentials.*``); the V1.0
    page itself was not found (docs/explanation/api-notes.md#projects).
    """

    access_key_id: str | None = None
    access_key_secret: str | None = field(default=None, repr=masked_repr)
    security_token: str | None = field(default=None, repr=masked_repr)
    expire: int | None = None
    platform: int | None = None  # an integer, read live (meaning of the codes not documented)


@frozen
class StsToken:
    """Upload credentials of a project's storage (docs/explanation/api-notes.md#projects; field
    names guessed from client code).

    Upload with any S3 client to ``endpoint``/``bucket`` under ``object_key_prefix``, then tell
    FlightHub 2 (wayline finish-upload). ``provider`` is e.g. ``ali``, ``aws`` or ``minio``.
    """

    endpoint: str | None = None
    bucket: str | None = None
    object_key_prefix: str | None = None
    provider: str | None = None
    region: str | None = None
    credentials: StsCredentials | None = None

    @property
    def access_key_id(self) -> str | None:
        return self.credentials.access_key_id if self.credentials else None

    @property
    def access_key_secret(self) -> str | None:
        return self.credentials.access_key_secret if self.credentials else None

    @property
    def security_token(self) -> str | None:
        return self.credentials.security_token if self.credentials else None

    @property
    def expire(self) -> int | None:
        """Lifetime of the keys in seconds, counted from when they were issued."""
        return self.credentials.expire if self.credentials else None
