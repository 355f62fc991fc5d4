"""CSV replay feed: ticks and OHLC bars (the shipped EURUSD H1 file), quotes and candles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.feeds.csv_replay import CsvReplayFeed, load_quotes
from core.candles import Candle
from core.errors import PriceDataError
from tests.execution.exec_support import TABLE, D

SHIPPED = Path(__file__).resolve().parents[2] / "bot" / "data" / "eurusd_h1.csv"
H1 = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return path


def test_bars_become_four_quotes_each_in_the_likely_order() -> None:
    quotes = load_quotes(SHIPPED, TABLE, instrument="EURUSD", spread_points=10)
    assert len(quotes) == 5000 * 4
    # 2017-04-19 09:00 1.0716 / 1.0722 / 1.07083 / 1.07219 rose: open, low, high, close
    assert [(q.time, q.bid, q.ask) for q in quotes[:4]] == [
        (at("2017-04-19 09:00"), D("1.0716"), D("1.07170")),
        (at("2017-04-19 09:15"), D("1.07083"), D("1.07093")),
        (at("2017-04-19 09:30"), D("1.0722"), D("1.07230")),
        (at("2017-04-19 09:45"), D("1.07219"), D("1.07229")),
    ]
    assert {q.instrument for q in quotes} == {"EURUSD"}
    assert all(a.time < b.time for a, b in zip(quotes, quotes[1:]))


def test_a_falling_bar_goes_high_before_low(tmp_path: Path) -> None:
    path = write(tmp_path, "time,open,high,low,close\n2026-11-23T10:00:00Z,2400.00,2401.00,2390.00,2395.00\n")
    quotes = load_quotes(path, TABLE, instrument="XAUUSD", spread_points=30, bar_period=timedelta(minutes=4))
    assert [(q.time.minute, q.bid, q.ask) for q in quotes] == [
        (0, D("2400.00"), D("2400.30")),
        (1, D("2401.00"), D("2401.30")),
        (2, D("2390.00"), D("2390.30")),
        (3, D("2395.00"), D("2395.30")),
    ]


async def test_replayed_bars_give_back_their_candles() -> None:
    feed = CsvReplayFeed.from_csv(SHIPPED, TABLE, instrument="EURUSD")
    assert await feed.latest_quote("EURUSD") is None
    assert await feed.candles("EURUSD", timeframe=H1, limit=10) == []  # nothing replayed yet: no peeking ahead
    replayed = [q async for q in _take(feed, 8)]
    assert replayed[-1].time == at("2017-04-19 10:45")
    assert await feed.latest_quote("EURUSD") == replayed[-1]
    assert await feed.candles("EURUSD", timeframe=H1, limit=10) == [
        Candle(at("2017-04-19 09:00"), D("1.0716"), D("1.0722"), D("1.07083"), D("1.07219")),
        Candle(at("2017-04-19 10:00"), D("1.07214"), D("1.07296"), D("1.07214"), D("1.0726")),
    ]
    two_hours = await feed.candles("EURUSD", timeframe=2 * H1, limit=10)
    assert two_hours == [Candle(at("2017-04-19 08:00"), D("1.0716"), D("1.0722"), D("1.07083"), D("1.07219")),
                         Candle(at("2017-04-19 10:00"), D("1.07214"), D("1.07296"), D("1.07214"), D("1.0726"))]
    assert len(await feed.candles("EURUSD", timeframe=H1, limit=1)) == 1


async def test_fast_forward_builds_history_without_replaying_it() -> None:
    feed = CsvReplayFeed.from_csv(SHIPPED, TABLE, instrument="EURUSD")
    assert feed.fast_forward(at("2017-04-20 09:00")) == 24 * 4
    assert len(await feed.candles("EURUSD", timeframe=H1, limit=500)) == 24
    first = [q async for q in _take(feed, 1)][0]
    assert first.time == at("2017-04-20 09:00")


async def test_ticks_of_several_instruments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,instrument,bid,ask\n"
        "2026-11-23T10:00:00Z,XAUUSD,2400.10,2400.40\n"
        "2026-11-23T10:00:01Z,EURUSD,1.10000,1.10010\n"
        "2026-11-23T12:00:02+02:00,XAUUSD,2401.10,2401.40\n"
        "2026-11-23T10:00:01Z,XAUUSD,-5,2400.40\n",  # bad rows are replayed: the QuoteGuard refuses them
    )
    feed = CsvReplayFeed.from_csv(path, TABLE)
    quotes = [q async for q in feed.replay()]
    assert [(q.instrument, q.bid) for q in quotes] == [
        ("XAUUSD", D("2400.10")), ("EURUSD", D("1.10000")), ("XAUUSD", D("2401.10")), ("XAUUSD", D(-5)),
    ]
    assert quotes[2].time == at("2026-11-23 10:00:02")
    assert (await feed.latest_quote("EURUSD")).ask == D("1.10010")  # type: ignore[union-attr]
    assert await feed.latest_quote("GBPUSD") is None
    assert feed.advance() is None


def test_ticks_may_take_their_instrument_as_a_parameter(tmp_path: Path) -> None:
    path = write(tmp_path, "Time,Bid,Ask\n2026-11-23 10:00:00,1.1,1.2\n")
    assert load_quotes(path, TABLE, instrument="EURUSD")[0].instrument == "EURUSD"


@pytest.mark.parametrize(
    ("text", "instrument", "message"),
    [
        ("time,open,high,low,close\n2026-11-23 10:00:00,1,2,0.5,1.5\n", None, "needs the instrument"),
        ("time,bid,ask\n2026-11-23 10:00:00,1,2\n", None, "instrument column or an instrument parameter"),
        ("when,bid,ask\n", "EURUSD", "no time column"),
        ("time,price\n", "EURUSD", "neither bid/ask nor open/high/low/close"),
        ("time,bid,ask\n2026-11-23 10:00:00,abc,2\n", "EURUSD", "prices.csv:2: 'abc' is not a number"),
        ("time,bid,ask\nyesterday,1,2\n", "EURUSD", "prices.csv:2: 'yesterday' is not an ISO 8601 time"),
        ("time,bid,ask\n2026-11-23 10:00:00,1\n", "EURUSD", "prices.csv:2: the row has only 2 columns"),
        ("time,open,high,low,close\n2026-11-23 10:00:00,1,1.2,1.1,1.15\n", "EURUSD", "prices.csv:2: inconsistent bar"),
    ],
)
def test_unreadable_files_say_where(tmp_path: Path, text: str, instrument: str | None, message: str) -> None:
    with pytest.raises(PriceDataError, match=message):
        load_quotes(write(tmp_path, text), TABLE, instrument=instrument)


async def _take(feed: CsvReplayFeed, count: int):  # type: ignore[no-untyped-def]
    async for quote in feed.replay():
        yield quote
        count -= 1
        if count == 0:
            return
