"""aiodji.sim — an in-memory FlightHub 2 OpenAPI simulator (aiohttp.web).

``async with Simulator() as sim:`` then use ``sim.url``, ``sim.token``, ``sim.state``,
``sim.faults`` and ``sim.stats``.
"""

from .faults import Faults, SimStats
from .server import Simulator
from .state import SimState

__all__ = ["Faults", "SimState", "SimStats", "Simulator"]
