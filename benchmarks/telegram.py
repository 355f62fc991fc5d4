"""Telegram delivery: signal→card latency and fan-out throughput, against the Bot API emulator.

Run by hand:  python benchmarks/telegram.py [--signals 100]
- Latency: a signed POST until the card is in the trader's chat (one trader, no limits, no chart),
  beside the baseline of one bare aiogram sendMessage round trip to the same emulator.
- Fan-out: one burst of signals to 100 traders with the emulator at Telegram's real limits
  (30 msg/s overall, 1 msg/s per chat), as a share of the 30 msg/s limit.
Targets: p50 <= 50 ms; fan-out >= 95% of the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402

from bot.app import open_desk, serve_http  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.emulator import BotApiEmulator, EmulatorState, RateLimits  # noqa: E402
from bot.producer_client import ProducerClient  # noqa: E402

SECRET = "bench-secret-0123456789"
FANOUT_TRADERS = list(range(5001, 5101))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=100, help="signals for the latency run")
    parser.add_argument("--burst", type=int, default=3, help="signals in the fan-out burst (x100 traders)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    baseline = await bare_send_latency(args.signals)
    latencies = await card_latency(args.signals)
    rate, seconds, cards = await fanout_rate(args.burst)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"{'measure':<52}{'value':>12}{'target':>12}")
    print(f"{'bare sendMessage round trip p50 (baseline)':<52}{percentile(baseline, 50):>10.1f}ms")
    print(f"{'signal -> card p50':<52}{p50:>10.1f}ms{'<= 50 ms':>12}  {'ok' if p50 <= 50 else 'MISSED'}")
    print(f"{'signal -> card p99':<52}{p99:>10.1f}ms")
    print(f"{'signal -> card p50 / baseline':<52}{p50 / percentile(baseline, 50):>11.1f}x")
    share = rate / 30
    print(f"{f'fan-out: {cards} cards to 100 traders in {seconds:.1f} s':<52}{rate:>8.1f}/s  {share:>9.1%} of 30/s  "
          f"{'ok' if share >= 0.95 else 'MISSED'} (target >= 95%)")


def desk_settings(tmp: str, telegram: BotApiEmulator, traders: list[int], global_rate: float, chat_rate: float):  # noqa: ANN201
    return load_settings(
        None,
        database={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"},
        producers=[{"id": "bench", "secrets": [SECRET]}],
        signals={"rate_per_second": 0},
        telegram={"token": telegram.token, "api_base": telegram.base_url, "traders": traders,
                  "rate_global_per_second": global_rate, "rate_chat_per_second": chat_rate},
    )


async def bare_send_latency(n: int) -> list[float]:
    async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram:
        bot = Bot(telegram.token, session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url)))
        samples = []
        for i in range(n):
            started = time.perf_counter()
            await bot.send_message(42, f"ping {i}")
            samples.append((time.perf_counter() - started) * 1000)
        await bot.session.close()
    return samples


async def card_latency(n: int) -> list[float]:
    trader = 4001
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram:
            settings = desk_settings(tmp, telegram, [trader], 10_000, 10_000)
            async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
                async with ProducerClient(url, "bench", SECRET) as client:
                    samples = []
                    for i in range(n):
                        started = time.perf_counter()
                        await client.send_signal("XAUUSD", "buy", "2400.5", "2390", "2420", time=datetime.now(UTC), version=i + 1)
                        await telegram.wait_for_messages(trader, i + 1, timeout=10)
                        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def fanout_rate(burst: int) -> tuple[float, float, int]:
    cards = burst * len(FANOUT_TRADERS)
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiEmulator(EmulatorState(limits=RateLimits(global_per_second=30, per_chat_per_second=1))) as telegram:
            settings = desk_settings(tmp, telegram, FANOUT_TRADERS, 30, 1)
            async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
                async with ProducerClient(url, "bench", SECRET) as client:
                    for i in range(burst):
                        await client.send_signal("XAUUSD", "buy", "2400.5", "2390", "2420", time=datetime.now(UTC), version=i + 1)
                await telegram.wait_until(lambda: len(telegram.stats.sends) >= cards, timeout=cards)
                times = [s.at for s in telegram.stats.sends]
                too_many = telegram.stats.too_many_requests
    if too_many:
        print(f"warning: the emulator answered {too_many} time(s) with 429")
    seconds = max(times) - min(times)
    # n sends span n-1 intervals: the rate between the first and the last
    return (cards - 1) / seconds, seconds, cards


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    asyncio.run(main())
