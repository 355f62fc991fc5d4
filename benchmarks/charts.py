"""Chart rendering benchmark, run by hand: `python benchmarks/charts.py`.

Measures, on the EURUSD H1 sample: cold render time per chart kind for 100 and 1,000 candles (equity
points, trades) in a process prepared like a render worker, each beside a baseline measured in the same
run (matplotlib's plainest chart of the same size: one line of the closes, saved as PNG); render and
cached time through ChartRenderer; and the event loop's lag while ten charts render in worker
processes (and in threads, for comparison).
Targets (issue 6): candlestick cold ≤ 70 ms at 100 candles, cached < 1 ms, loop lag ≤ 20 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is itself named charts.py: put the repository first on the path so `import charts` finds
# the package (spawned worker processes inherit the corrected path).
sys.path[0] = str(Path(__file__).resolve().parents[1])

import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import Executor, ThreadPoolExecutor  # noqa: E402
from io import BytesIO  # noqa: E402

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from prometheus_client import CollectorRegistry  # noqa: E402

from charts import (  # noqa: E402
    Candle,
    CandlestickChart,
    ChartCache,
    ChartRenderer,
    ChartSpec,
    EquityChart,
    EquityPoint,
    LevelSet,
    PnlChart,
    render_chart,
)
from charts.examples import load_candles  # noqa: E402
from charts.render import warm_up  # noqa: E402
from charts.renderer import process_pool  # noqa: E402

COLD_TARGET, CACHED_TARGET, LAG_TARGET = 0.070, 0.001, 0.020
RUNS = 15


def specs_for(candles: tuple[Candle, ...]) -> dict[str, ChartSpec]:
    """One chart of each kind with len(candles) candles, equity points or trades."""
    closes = [float(c.close) for c in candles]  # type: ignore[arg-type]
    entry = closes[-1]
    return {
        "candles": CandlestickChart("EURUSD", "H1", candles, LevelSet(entry, entry - 0.0025, entry + 0.005), decimals=5),
        "equity": EquityChart(
            "bench",
            tuple(EquityPoint(c.time, 10_000 * close / closes[0]) for c, close in zip(candles, closes, strict=True)),
            drawdown_cap_percent=20,
            currency="USD",
        ),
        "pnl": PnlChart("bench", tuple((b - a) * 100_000 for a, b in zip([closes[0], *closes], closes, strict=False))),
    }


def plain_line_chart(candles: tuple[Candle, ...]) -> bytes:
    """The baseline: the least matplotlib does for a 1280x720 PNG of these prices."""
    figure = Figure(figsize=(12.8, 7.2), dpi=100)
    FigureCanvasAgg(figure)
    figure.add_subplot().plot([c.time for c in candles], [c.close for c in candles])
    out = BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def timed(action: Callable[[], object], runs: int = RUNS) -> list[float]:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def report(name: str, seconds: float, target: float | None = None, baseline: float | None = None) -> None:
    versus = f"{seconds / baseline:>6.2f}x" if baseline else " " * 7
    verdict = "" if target is None else f"{target * 1000:>8.0f} ms  {seconds / target:5.2f}  {'ok' if seconds <= target else 'MISSED'}"
    print(f"{name:<58}{seconds * 1000:>9.2f} ms  {versus}  {verdict}")


def cold_renders(history: tuple[Candle, ...]) -> None:
    started = time.perf_counter()
    warm_up()
    report("first renders in a fresh process (warm-up, 3 charts)", time.perf_counter() - started)
    for count in (100, 1000):
        candles = history[-count:]
        baseline = statistics.median(timed(lambda: plain_line_chart(candles)))
        report(f"baseline: plain line chart {count:>5} (median of {RUNS})", baseline, baseline=baseline)
        for kind, spec in specs_for(candles).items():
            durations = timed(lambda spec=spec: render_chart(spec))
            target = COLD_TARGET if kind == "candles" and count == 100 else None
            report(f"cold {kind:<7} {count:>5} (median of {RUNS})", statistics.median(durations), target, baseline)
            report(f"cold {kind:<7} {count:>5} (slowest)", max(durations), baseline=baseline)


async def through_renderer(history: tuple[Candle, ...]) -> None:
    pool = process_pool(1)
    try:
        async with ChartRenderer(cache=ChartCache(), registry=CollectorRegistry(), executor=pool) as renderer:
            for count in (100, 1000):
                spec = specs_for(history[-count:])["candles"]
                started = time.perf_counter()
                await renderer.render(spec)
                report(f"renderer, candles {count:>5}: first request (worker + IPC)", time.perf_counter() - started)
                durations = []
                for _ in range(200):
                    started = time.perf_counter()
                    await renderer.render(spec)
                    durations.append(time.perf_counter() - started)
                report(f"renderer, candles {count:>5}: cached (median of 200)", statistics.median(durations), CACHED_TARGET)
    finally:
        pool.shutdown()


async def loop_lag(history: tuple[Candle, ...], label: str, pool: Executor, workers: int) -> None:
    """Worst delay of a 2 ms sleep on the loop while ten different candle charts render."""
    specs = [specs_for(history[i * 10 : i * 10 + 100])["candles"] for i in range(10)]
    lags: list[float] = []

    async def ping() -> None:
        while True:
            sent = time.perf_counter()
            await asyncio.sleep(0.002)
            lags.append(time.perf_counter() - sent - 0.002)

    async with ChartRenderer(cache=ChartCache(), registry=CollectorRegistry(), executor=pool, workers=workers) as renderer:
        await renderer.render(specs_for(history[:50])["candles"])  # workers warm
        pinger = asyncio.create_task(ping())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        await asyncio.gather(*(renderer.render(spec) for spec in specs))
        elapsed = time.perf_counter() - started
        pinger.cancel()
    report(f"loop lag, 10 charts, {label} (took {elapsed * 1000:.0f} ms)", max(lags), LAG_TARGET if "process" in label else None)


async def lags(history: tuple[Candle, ...]) -> None:
    for workers in (1, 2):
        pool = process_pool(workers)
        try:
            await loop_lag(history, f"{workers} worker process(es)", pool, workers)
        finally:
            pool.shutdown()
    with ThreadPoolExecutor(2) as threads:
        await loop_lag(history, "2 threads, for comparison", threads, 2)


def main() -> None:
    history = load_candles()
    print(f"{'measure':<58}{'value':>12}  {'vs base':>7}  {'target':>8}  ratio")
    cold_renders(history)
    asyncio.run(through_renderer(history))
    asyncio.run(lags(history))


if __name__ == "__main__":
    main()
