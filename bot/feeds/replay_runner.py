"""Playing a CSV price file into the running desk, through the same QuoteIntake as pushed quotes.

The file gives the prices and their order; the desk's clock gives the time. A replay runs faster than the
file's own timeline (`quotes_per_second`), and orders are created on the desk's clock, so a quote keeping
its file time would be ignored by every order newer than it, or refused as being in the future. So each
step forward in the file is stamped with the clock's time when it is pushed, while a step back or a
repeat keeps its distance to the newest time so far: the guard still sees the file's out-of-order and
duplicate quotes for what they are."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from bot.config import FeedSettings
from bot.feeds.csv_replay import load_price_file
from core.clock import Clock
from core.errors import StorageUnavailable
from core.instruments import InstrumentTable
from core.quote_intake import QuoteIntake
from core.quotes import Quote
from core.trading_ports import QuoteStore

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


class QuoteReplay:
    def __init__(
        self,
        quotes: Sequence[Quote],
        intake: QuoteIntake,
        clock: Clock,
        *,
        quotes_per_second: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._quotes = quotes
        self._intake = intake
        self._clock = clock
        self._interval = 1 / quotes_per_second
        self._sleep = sleep
        self._newest: tuple[datetime, datetime] | None = None  # (file time, stamped time) of the newest quote

    async def run(self) -> int:
        """Push every quote, one every 1/quotes_per_second s; answers how many were accepted."""
        accepted = 0
        for index, quote in enumerate(self._quotes):
            if index:
                await self._sleep(self._interval)
            try:
                [verdict] = await self._intake.submit([self._stamped(quote)])
            except StorageUnavailable as exc:
                # A live feed does not wait for the database either; the next quote is newer anyway.
                log.warning("event=replay_quote_lost instrument=%s error=%s", quote.instrument, exc)
                continue
            accepted += verdict.accepted
        log.info("event=replay_finished quotes=%d accepted=%d", len(self._quotes), accepted)
        return accepted

    def _stamped(self, quote: Quote) -> Quote:
        if self._newest is None or quote.time > self._newest[0]:
            self._newest = (quote.time, self._clock.now())
        file_time, stamped = self._newest
        return dataclasses.replace(quote, time=stamped - (file_time - quote.time))


@asynccontextmanager
async def csv_replay(
    feed: FeedSettings,
    instruments: InstrumentTable,
    intake: QuoteIntake,
    store: QuoteStore,
    clock: Clock,
) -> AsyncIterator[asyncio.Task[int]]:
    """Load `feed.csv` (a bar file's bars go to the store as chart history), then replay its quotes in a task
    until they run out or the block ends. Raises PriceDataError or OSError for a file that cannot be read."""
    path = Path(feed.csv)
    prices = load_price_file(path, instruments, instrument=feed.instrument or None, spread_points=feed.spread_points)
    if prices.bars:
        await store.load_bars(feed.instrument, prices.bars)
    log.info("event=replay_started file=%s quotes=%d history_bars=%d", path, len(prices.quotes), len(prices.bars))
    replay = QuoteReplay(prices.quotes, intake, clock, quotes_per_second=feed.quotes_per_second)
    task = asyncio.get_running_loop().create_task(replay.run(), name="csv-replay")
    task.add_done_callback(_report_failure)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _report_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("event=replay_failed", exc_info=error)
