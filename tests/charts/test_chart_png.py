"""Every chart kind, in both themes, is a clean 1280×720 PNG: pixels only, no metadata chunks."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from charts import (
    Candle,
    CandlestickChart,
    ChartSpec,
    EquityChart,
    EquityPoint,
    LevelSet,
    PnlChart,
    Theme,
    render_chart,
)
from charts.png import png_from_rgba
from tests.charts.chart_png import ALLOWED_CHUNKS, decoded_bytes_match_size, png_chunks, png_size


def specs(eurusd: tuple[Candle, ...]) -> list[ChartSpec]:
    entry = float(eurusd[-1].close)  # type: ignore[arg-type]
    closes = [float(c.close) for c in eurusd]  # type: ignore[arg-type]
    pnls = tuple(round((b - a) * 100_000, 2) for a, b in zip(closes, closes[12:], strict=False))[::12]
    equity, points = 10_000.0, []
    for candle, pnl in zip(eurusd[::12], pnls, strict=False):
        equity += pnl
        points.append(EquityPoint(candle.time + timedelta(hours=12), equity))
    return [
        CandlestickChart("EURUSD", "H1", eurusd, LevelSet(entry, entry - 0.002, entry + 0.004), visible=120),
        EquityChart("paper", tuple(points), drawdown_cap_percent=20, currency="USD"),
        PnlChart("paper", pnls, currency="USD"),
    ]


@pytest.mark.parametrize("theme", list(Theme))
@pytest.mark.parametrize("index", [0, 1, 2], ids=["candles", "equity", "pnl"])
def test_chart_is_a_1280x720_png_with_no_metadata(eurusd, theme, index):
    chart = render_chart(specs(eurusd)[index], theme)

    kinds = [kind for kind, _ in png_chunks(chart.png)]
    assert kinds[0] == "IHDR" and kinds[-1] == "IEND"
    assert set(kinds) <= ALLOWED_CHUNKS, f"metadata chunks: {set(kinds) - ALLOWED_CHUNKS}"
    assert png_size(chart.png) == (1280, 720)
    assert decoded_bytes_match_size(chart.png)
    assert Image.open(io.BytesIO(chart.png)).size == (1280, 720)  # an independent decoder agrees
    assert b"Matplotlib" not in chart.png and b"Exif" not in chart.png


def test_png_encoder_round_trips_every_pixel():
    rgba = np.random.default_rng(6).integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    decoded = Image.open(io.BytesIO(png_from_rgba(rgba)))
    assert decoded.mode == "RGB" and decoded.size == (53, 37)
    assert np.array_equal(np.asarray(decoded), rgba[:, :, :3])


def test_themes_differ_and_rendering_is_deterministic(eurusd):
    spec = specs(eurusd)[0]
    dark, light = render_chart(spec, Theme.DARK), render_chart(spec, Theme.LIGHT)
    assert dark.png != light.png
    assert render_chart(spec, Theme.DARK).png == dark.png  # no timestamps or other varying bytes


def test_parallel_renders_in_threads_give_the_same_bytes(eurusd):
    # Every render owns its Figure and canvas: no shared pyplot state to trample.
    spec = specs(eurusd)[0]
    with ThreadPoolExecutor(4) as threads:
        results = list(threads.map(lambda _: render_chart(spec).png, range(4)))
    assert len(set(results)) == 1


def test_full_history_draws_without_notes(eurusd):
    # 400 candles with 120 visible: enough history for SMA 200, nothing skipped or merged.
    assert render_chart(specs(eurusd)[0]).notes == ()
