from __future__ import annotations

import pytest

from charts import Candle
from charts.examples import SAMPLE_CSV, load_candles


@pytest.fixture(scope="session")
def eurusd() -> tuple[Candle, ...]:
    """400 real EURUSD H1 bars (June–July 2017), weekend gaps included."""
    return load_candles(SAMPLE_CSV, start=1000, count=400)
