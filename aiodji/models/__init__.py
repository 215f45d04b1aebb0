"""attrs models of FlightHub 2 replies and request bodies, one module per API area."""

from aiodji.models._base import OpenStrEnum, Page
from aiodji.models.common import Envelope, Pagination
from aiodji.models.livestream import Converter, ConverterSchema, ConverterState

__all__ = [
    "Converter",
    "ConverterSchema",
    "ConverterState",
    "Envelope",
    "OpenStrEnum",
    "Page",
    "Pagination",
]
