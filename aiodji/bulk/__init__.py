"""Bulk work: the generic engine (:mod:`.engine`) and the Client's jobs (:mod:`.jobs`)."""

from aiodji.bulk.engine import (
    DEFAULT_CONCURRENCY,
    MIN_SAMPLE_FOR_FRACTION,
    BulkError,
    BulkOptions,
    BulkReport,
    BulkRun,
    ItemResult,
    ItemState,
    ProgressCallback,
    run_bulk,
)
from aiodji.bulk.jobs import BulkOps, ConverterTarget

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MIN_SAMPLE_FOR_FRACTION",
    "BulkError",
    "BulkOps",
    "BulkOptions",
    "BulkReport",
    "BulkRun",
    "ConverterTarget",
    "ItemResult",
    "ItemState",
    "ProgressCallback",
    "run_bulk",
]
