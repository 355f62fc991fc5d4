"""Example charts from the EURUSD H1 sample history, for the README images, the benchmark and tests.

`python -m charts.examples [OUT_DIR] [CSV]` writes candles.png, equity.png and pnl.png (dark theme)
and their *-light.png twins.
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from charts.model import Candle, CandlestickChart, ChartSpec, EquityChart, EquityPoint, LevelSet, PnlChart
from charts.ohlc import moving_average
from charts.render import render_chart
from charts.theme import Theme

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "eurusd_h1.csv"
_LOT_UNITS = 15_000  # 0.15 lot: drawdowns in the sample stay visible yet under the 20 % cap
_HOLD_BARS = 12


def load_candles(path: Path = SAMPLE_CSV, start: int = 0, count: int | None = None) -> tuple[Candle, ...]:
    """Rows of an MT-style CSV (unnamed time column, Open, High, Low, Close, Volume), times in UTC."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    stop = None if count is None else start + count
    return tuple(
        Candle(
            time=datetime.fromisoformat(row[""]).replace(tzinfo=UTC),
            open=float(row["Open"]),
            high=float(row["High"]),
            low=float(row["Low"]),
            close=float(row["Close"]),
        )
        for row in rows[start:stop]
    )


def sample_trades(candles: tuple[Candle, ...]) -> list[tuple[datetime, float]]:
    """(exit time, PnL in USD) of a toy trend follower: every 12 bars, trade the side of SMA 50 for 12 bars."""
    closes = np.array([float(c.close) for c in candles])  # type: ignore[arg-type]
    trend = moving_average(closes, 50)
    trades = []
    for i in range(49, len(closes) - _HOLD_BARS, _HOLD_BARS):
        side = 1.0 if closes[i] >= trend[i] else -1.0
        pnl = (closes[i + _HOLD_BARS] - closes[i]) * side * _LOT_UNITS
        trades.append((candles[i + _HOLD_BARS].time, round(float(pnl), 2)))
    return trades


def example_charts(candles: tuple[Candle, ...], shown: int = 120) -> dict[str, ChartSpec]:
    """One chart of each kind: the last `shown` candles (with 200 more for the averages) and a buy signal
    at the last close, and the equity curve and PnL histogram of `sample_trades` over all candles."""
    recent = candles[-(shown + 200) :]
    entry = float(recent[-1].close)  # type: ignore[arg-type]
    trades = sample_trades(candles)
    equity = np.cumsum([10_000.0] + [pnl for _, pnl in trades])
    times = [candles[49].time] + [time for time, _ in trades]
    return {
        "candles": CandlestickChart(
            "EURUSD",
            "H1",
            recent,
            LevelSet(entry=entry, stop=entry - 0.0025, target=entry + 0.005),
            visible=shown,
            decimals=5,
        ),
        "equity": EquityChart(
            "paper · 111",
            tuple(EquityPoint(t, round(float(e), 2)) for t, e in zip(times, equity, strict=True)),
            drawdown_cap_percent=20,
            currency="USD",
        ),
        "pnl": PnlChart("paper · 111", tuple(pnl for _, pnl in trades), currency="USD"),
    }


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path("docs/images")
    source = Path(argv[1]) if len(argv) > 1 else SAMPLE_CSV
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in example_charts(load_candles(source)).items():
        for theme, suffix in ((Theme.DARK, ""), (Theme.LIGHT, "-light")):
            chart = render_chart(spec, theme)
            (out / f"{name}{suffix}.png").write_bytes(chart.png)
            print(f"{name}{suffix}.png", len(chart.png), "bytes", "; ".join(chart.notes))


if __name__ == "__main__":
    main(sys.argv[1:])
