"""One namespace class per API area; thin: build the request, call the transport, structure."""

from aiodji.resources.annotations import Annotations
from aiodji.resources.devices import Devices
from aiodji.resources.livestream import ConverterFilters, Converters, Livestream
from aiodji.resources.models3d import Models3D
from aiodji.resources.open_models import OpenModels
from aiodji.resources.projects import ProjectFilters, Projects
from aiodji.resources.system import System
from aiodji.resources.tasks import TaskFilters, Tasks
from aiodji.resources.waylines import Waylines

__all__ = [
    "Annotations",
    "ConverterFilters",
    "Converters",
    "Devices",
    "Livestream",
    "Models3D",
    "OpenModels",
    "ProjectFilters",
    "Projects",
    "System",
    "TaskFilters",
    "Tasks",
    "Waylines",
]
