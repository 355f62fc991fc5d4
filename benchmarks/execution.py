"""Execution latency: a trader's Approve press until the paper order is placed, against the Bot API emulator.

Run by hand:  python benchmarks/execution.py [--signals 200] [--runs 3]
For each signal the trader presses Approve on its card; the desk records when the decision was stored
and when the order was placed (both on the system clock, in this process), so:
- baseline: press -> decision recorded (the approval path alone, measured in the same run);
- press -> paper order placed, p50 and p99, and its ratio to the baseline.
Target: p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from typing import Any  # noqa: E402

from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import open_desk, serve_http  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.emulator import BotApiEmulator, EmulatorState, RateLimits  # noqa: E402
from bot.producer_client import ProducerClient  # noqa: E402
from core.quotes import Quote  # noqa: E402
from storage.models import DecisionRow  # noqa: E402

SECRET = "bench-secret-0123456789"
TRADER = 4001


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=200, help="signals approved, one at a time, per run")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh desk; the medians are reported")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results = [await approve_and_place(args.signals) for _ in range(args.runs)]
    base50 = statistics.median(percentile(decided, 50) for decided, _ in results)
    p50 = statistics.median(percentile(placed, 50) for _, placed in results)
    p99s = [percentile(placed, 99) for _, placed in results]
    p99 = statistics.median(p99s)
    print(f"{'measure (median of ' + str(args.runs) + ' runs)':<44}{'value':>12}{'target':>12}")
    print(f"{'press -> decision recorded p50 (baseline)':<44}{base50:>10.1f}ms")
    print(f"{'press -> paper order placed p50':<44}{p50:>10.1f}ms")
    print(f"{'press -> paper order placed p99':<44}{p99:>10.1f}ms{'<= 50 ms':>12}  {'ok' if p99 <= 50 else 'MISSED'}")
    print(f"{'  p99 of each run':<44}{', '.join(f'{v:.1f}' for v in p99s):>12}")
    print(f"{'placed p50 / baseline p50':<44}{p50 / base50:>11.1f}x")


async def approve_and_place(n: int) -> tuple[list[float], list[float]]:
    decided: list[float] = []
    placed: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram:
            settings = load_settings(
                None,
                database={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"},
                producers=[{"id": "bench", "secrets": [SECRET]}],
                signals={"rate_per_second": 0},
                telegram={"token": telegram.token, "api_base": telegram.base_url, "traders": [TRADER],
                          "rate_global_per_second": 10_000, "rate_chat_per_second": 10_000},
            )
            async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
                await desk.quotes.submit([Quote("XAUUSD", Decimal("2400.30"), Decimal("2400.60"), datetime.now(UTC))])
                async with ProducerClient(url, "bench", SECRET) as client:
                    for i in range(n):
                        await client.send_signal("XAUUSD", "buy", "2400.5", "2390", "2420", time=datetime.now(UTC), version=i + 1)
                        await telegram.wait_for_messages(TRADER, lambda messages, i=i: len(messages) > 2 * i)
                        card = telegram.messages(TRADER)[-1]
                        pressed = datetime.now(UTC)
                        telegram.press(TRADER, card.message_id, button="Approve")
                        row = await _wait_for_placement(desk.engine, decision_id=i + 1)
                        decided.append((row.decided_at - pressed).total_seconds() * 1000)
                        placed.append((row.executed_at - pressed).total_seconds() * 1000)
                        await telegram.wait_for_messages(TRADER, lambda messages, i=i: len(messages) >= 2 * (i + 1))
    return decided, placed


async def _wait_for_placement(engine: AsyncEngine, decision_id: int) -> Any:
    """The decision once its order is placed (polled: the times compared are the desk's own stamps)."""
    table = DecisionRow.__table__
    while True:
        async with engine.connect() as conn:
            row = (await conn.execute(select(table).where(table.c.id == decision_id))).first()
        if row is not None and row.execution == "placed":
            return row
        await asyncio.sleep(0.005)


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    asyncio.run(main())
