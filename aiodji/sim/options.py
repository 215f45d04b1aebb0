"""Argument types for the simulator's and the demo's command lines: a bad value is a usage
error (exit 2) in one line, never a traceback or a silently empty organization."""

from __future__ import annotations

import argparse
import math

__all__ = ["count", "port", "positive_count", "rate", "share"]


def _whole(value: str, least: int, most: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more: {value!r}")
    if most is not None and number > most:
        raise argparse.ArgumentTypeError(f"out of range {least}-{most}: {value!r}")
    return number


def _real(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


def count(value: str) -> int:
    """A whole number >= 0 (``-3`` projects is refused, not an empty organization)."""
    return _whole(value, 0)


def positive_count(value: str) -> int:
    """A whole number >= 1 (workers, at a time)."""
    return _whole(value, 1)


def port(value: str) -> int:
    """0 (any free port) to 65535."""
    return _whole(value, 0, 65535)


def rate(value: str) -> float:
    """A finite number above 0 (``nan`` and ``inf`` pass a plain comparison)."""
    number = _real(value)
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0: {value!r}")
    return number


def share(value: str) -> float:
    """A probability: from 0 to 1."""
    number = _real(value)
    if not 0.0 <= number <= 1.0:  # false for nan too
        raise argparse.ArgumentTypeError(f"must be from 0 to 1: {value!r}")
    return number
