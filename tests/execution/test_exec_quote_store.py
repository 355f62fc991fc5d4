"""SqlQuoteStore on SQLite and PostgreSQL: the latest quote and the bars every process prices and charts from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from core.candles import Candle
from core.quotes import Quote
from storage.quote_store import SqlQuoteStore
from tests.execution.db_support import migrated
from tests.execution.exec_support import D, quote
from tests.support import START

HOUR = timedelta(hours=1)
MINUTE = 60


def bar(hours: float, o: str, h: str, low: str, c: str) -> Candle:
    return Candle(START + timedelta(hours=hours), D(o), D(h), D(low), D(c))


def ohlc(candles: list[Candle]) -> list[tuple[float, str, str, str, str]]:
    """Hours from START and prices as plain text (PostgreSQL pads to the column's scale: 998.0000000000)."""
    return [((c.time - START) / HOUR, *(f"{p.normalize():f}" for p in (c.open, c.high, c.low, c.close))) for c in candles]


@pytest.fixture
async def store_factory(database_url: str) -> AsyncIterator[Callable[[], SqlQuoteStore]]:
    """Stores over one migrated database, each with its own runner, as separate processes would have."""
    async with migrated(database_url) as new_runner:
        yield lambda: SqlQuoteStore(new_runner(), bar_period=HOUR)


async def test_quotes_build_hourly_bars_from_bids_and_the_latest_quote(store_factory: Callable[[], SqlQuoteStore]) -> None:
    store = store_factory()
    # Prices of different digit counts: a text comparison would take "999.5" for the high.
    await store.record([quote("1000.10", "1000.40", 10), quote("999.50", "999.80", 20), quote("1000.05", "1000.35", 30)])
    await store.record([quote("1001.25", "1001.55", 40 * MINUTE), quote("998.00", "998.30", 50 * MINUTE)])
    await store.record([quote("998.70", "999.00", 61 * MINUTE)])

    assert ohlc(await store.candles("XAUUSD", timeframe=HOUR, limit=10)) == [
        (0, "1000.1", "1001.25", "998", "998"),
        (1, "998.7", "998.7", "998.7", "998.7"),
    ]
    assert await store.latest_quote("XAUUSD") == quote("998.70", "999.00", 61 * MINUTE)
    assert await store.latest_quote("EURUSD") is None
    assert await store.candles("EURUSD", timeframe=HOUR, limit=10) == []


async def test_another_process_sees_the_same_prices(store_factory: Callable[[], SqlQuoteStore]) -> None:
    writer, restarted = store_factory(), store_factory()
    await writer.record([quote("2400.1234567891", "2400.4234567891", 1), quote("1.0712", "1.0714", 2, instrument="EURUSD")])

    assert await restarted.latest_quote("XAUUSD") == quote("2400.1234567891", "2400.4234567891", 1)  # exact
    assert await restarted.latest_quote("EURUSD") == quote("1.0712", "1.0714", 2, instrument="EURUSD")
    assert ohlc(await restarted.candles("EURUSD", timeframe=HOUR, limit=1)) == [(0, "1.0712", "1.0712", "1.0712", "1.0712")]


async def test_an_older_quote_does_not_replace_a_newer_latest(store_factory: Callable[[], SqlQuoteStore]) -> None:
    first, second = store_factory(), store_factory()
    await first.record([quote("2400.10", "2400.40", 5)])
    await second.record([quote("2399.00", "2399.30", 3)])  # arrived late at another process

    assert await first.latest_quote("XAUUSD") == quote("2400.10", "2400.40", 5)
    # The bar still saw the price: its low counts it.
    assert ohlc(await first.candles("XAUUSD", timeframe=HOUR, limit=1))[0][3] == "2399"


async def test_coarser_candles_are_resampled_whole(store_factory: Callable[[], SqlQuoteStore]) -> None:
    store = store_factory()
    # 11:00 .. 20:00; four-hour buckets start at 08:00, 12:00, 16:00 and 20:00 (START is 10:00).
    hourly = [bar(h, str(100 + h), str(110 + h), str(90 + h), str(101 + h)) for h in range(1, 11)]
    assert await store.load_bars("XAUUSD", hourly) == 10

    # The 8 latest hours reach back into 12:00's bucket, which they would show cut short: not returned.
    assert ohlc(await store.candles("XAUUSD", timeframe=4 * HOUR, limit=2)) == [
        (6, "106", "119", "96", "110"), (10, "110", "120", "100", "111"),
    ]
    assert ohlc(await store.candles("XAUUSD", timeframe=4 * HOUR, limit=9)) == [
        (-2, "101", "111", "91", "102"), (2, "102", "115", "92", "106"),
        (6, "106", "119", "96", "110"), (10, "110", "120", "100", "111"),
    ]
    assert await store.candles("XAUUSD", timeframe=HOUR, limit=0) == []
    with pytest.raises(ValueError, match="multiple"):
        await store.candles("XAUUSD", timeframe=timedelta(minutes=90), limit=2)


async def test_loaded_bars_are_resampled_to_the_bar_period_and_replace_stored_ones(store_factory: Callable[[], SqlQuoteStore]) -> None:
    store = store_factory()
    halves = [bar(0, "10", "12", "9", "11"), bar(0.5, "11", "15", "10", "14"), bar(1, "14", "14", "13", "13")]
    assert await store.load_bars("XAUUSD", halves) == 2
    assert await store.load_bars("XAUUSD", [bar(1, "20", "21", "19", "20")]) == 1

    assert ohlc(await store.candles("XAUUSD", timeframe=HOUR, limit=5)) == [
        (0, "10", "15", "9", "14"), (1, "20", "21", "19", "20"),
    ]
    # A quote in a loaded hour merges into it.
    await store.record([Quote("XAUUSD", D("22"), D("22.5"), START + timedelta(minutes=90))])
    assert ohlc(await store.candles("XAUUSD", timeframe=HOUR, limit=1)) == [(1, "20", "22", "19", "22")]
