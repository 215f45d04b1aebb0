"""Argument types for the simulator's and the demo's command lines: a bad value is a usage
error (exit 2) in one line, never a traceback or a silently empty organization."""

from __future__ import annotations

import argparse
import math

__all__ = ["count", "port", "positive_count", "rate", "share"]


def _number(value: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {value!r}") from None


def count(value: str) -> int:
    """A whole number >= 0 (``-3`` projects is refused, not an empty organization)."""
    number = int(_number(value, int))
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value!r}")
    return number


def port(value: str) -> int:
    """0 (any free port) to 65535."""
    number = count(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {value!r}")
    return number


def rate(value: str) -> float:
    """A finite number above 0 (``nan`` and ``inf`` pass a plain comparison)."""
    number = _number(value, float)
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0: {value!r}")
    return number


def share(value: str) -> float:
    """A probability: from 0 to 1."""
    number = _number(value, float)
    if not 0.0 <= number <= 1.0:  # false for nan too
        raise argparse.ArgumentTypeError(f"must be from 0 to 1: {value!r}")
    return number


def positive_count(value: str) -> int:
    """A whole number >= 1 (workers, at a time)."""
    number = count(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value!r}")
    return number
