"""attrs models of FlightHub 2 replies and request bodies, one module per API area.

Each area module lists its public names in ``__all__``; they are all re-exported here.
"""

from aiodji.models import (
    annotations,
    devices,
    livestream,
    models3d,
    open_models,
    projects,
    system,
    tasks,
    waylines,
)
from aiodji.models._base import OpenStrEnum, Page
from aiodji.models.annotations import *  # noqa: F403
from aiodji.models.devices import *  # noqa: F403
from aiodji.models.livestream import *  # noqa: F403
from aiodji.models.models3d import *  # noqa: F403
from aiodji.models.open_models import *  # noqa: F403
from aiodji.models.projects import *  # noqa: F403
from aiodji.models.system import *  # noqa: F403
from aiodji.models.tasks import *  # noqa: F403
from aiodji.models.waylines import *  # noqa: F403

__all__ = [
    "OpenStrEnum",
    "Page",
    *annotations.__all__,
    *devices.__all__,
    *livestream.__all__,
    *models3d.__all__,
    *open_models.__all__,
    *projects.__all__,
    *system.__all__,
    *tasks.__all__,
    *waylines.__all__,
]
