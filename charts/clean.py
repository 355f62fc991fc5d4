"""Turning caller values into finite floats: missing, non-finite and implausible values are dropped."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

# Beyond this no price or amount is real, and float arithmetic on such values (ranges, sums) overflows.
MAX_ABS_VALUE = 1e12


def as_float(value: object) -> float:
    """The value as a float, or NaN when it is missing, not a number, infinite or implausibly large."""
    if value is None:
        return math.nan
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # e.g. Decimal("sNaN"), a stray string
        return math.nan
    return number if math.isfinite(number) and abs(number) <= MAX_ABS_VALUE else math.nan


def epoch_seconds(moment: datetime | None) -> float:
    """Seconds since the epoch; a naive time is taken as UTC, a missing one is NaN."""
    if moment is None:
        return math.nan
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def finite_rows(rows: Iterable[Sequence[float]], width: int, *, sort: bool) -> tuple[np.ndarray, int]:
    """Rows with every column finite, as an (n, width) array, optionally ordered by the first column.

    Returns the array and how many rows were dropped.
    """
    table = np.array(list(rows), dtype=float).reshape(-1, width)
    keep = np.isfinite(table).all(axis=1)
    table = table[keep]
    if sort:
        table = table[np.argsort(table[:, 0], kind="stable")]
    return table, int((~keep).sum())
