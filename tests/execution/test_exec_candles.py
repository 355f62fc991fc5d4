"""Candles built from quotes and resampled to larger timeframes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.candles import Candle, bucket_start, quote_candle, resample
from tests.execution.exec_support import D, quote
from tests.support import START


def test_quotes_become_candles_of_their_bid() -> None:
    ticks = [quote(b, str(D(b) + D("0.3")), s) for b, s in [("10", 0), ("12", 20), ("9", 40), ("11", 59), ("11.5", 61)]]
    candles = resample((quote_candle(q) for q in ticks), timedelta(minutes=1))
    assert candles == [
        Candle(START, D(10), D(12), D(9), D(11)),
        Candle(START + timedelta(minutes=1), D("11.5"), D("11.5"), D("11.5"), D("11.5")),
    ]


def test_buckets_align_to_the_epoch() -> None:
    assert bucket_start(START + timedelta(minutes=95), timedelta(hours=1)) == START + timedelta(hours=1)
    assert bucket_start(START + timedelta(minutes=95), timedelta(hours=4)) == START.replace(hour=8)


def test_timeframe_must_be_positive() -> None:
    with pytest.raises(ValueError):
        resample([], timedelta(0))
