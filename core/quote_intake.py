"""Taking quotes in: judge each one, store and trade on the accepted ones, tell ops about the refused ones.

Every price source (the signed push API, the CSV replay) goes through one QuoteIntake, so one guard sees
every quote and the store, the paper broker and the counts agree on what was accepted."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence

from core.notify import OpsAlert, OpsAlerts, Severity, TraderNotifier
from core.quotes import Quote, QuoteGuard, QuoteProblem, QuoteVerdict
from core.trades import TradeEvent
from core.trading_ports import QuoteDrivenBroker, QuoteStore

log = logging.getLogger(__name__)

REFUSED_ACTION = "refused it; nothing traded on it"


class QuoteIntake:
    def __init__(
        self,
        guard: QuoteGuard,
        store: QuoteStore,
        notifier: TraderNotifier,
        alerts: OpsAlerts,
        paper: QuoteDrivenBroker | None = None,
    ) -> None:
        self._guard = guard
        self._store = store
        self._notifier = notifier
        self._alerts = alerts
        self._paper = paper  # None when a live broker trades on its own prices
        self._counts: Counter[QuoteProblem | None] = Counter()
        # One batch at a time: the guard, the store and the paper broker then see quotes in one order.
        self._lock = asyncio.Lock()

    def counts(self) -> Mapping[QuoteProblem | None, int]:
        """Quotes judged since start: None counts the accepted ones, each problem the ones it refused."""
        return dict(self._counts)

    async def submit(self, quotes: Sequence[Quote]) -> list[QuoteVerdict]:
        """Judge `quotes` in order; answers a verdict for each. Accepted quotes are stored (in one
        transaction), then fed to the paper broker; its trade events go to the traders. Raises
        StorageUnavailable when the accepted quotes could not be stored: then none of them counts."""
        async with self._lock:
            await self._seed({quote.instrument for quote in quotes})
            verdicts = [self._guard.check(quote) for quote in quotes]
            accepted = [quote for quote, verdict in zip(quotes, verdicts, strict=True) if verdict.accepted]
            try:
                await self._store.record(accepted)
            except BaseException:
                # The guard took these quotes as references; the store did not. Judge the next ones against
                # what was stored, so a retry of this very batch is not refused as a duplicate.
                for instrument in {quote.instrument for quote in accepted}:
                    self._guard.forget(instrument)
                raise
            self._counts.update(verdict.problem for verdict in verdicts)
            await self._alert_refusals(quotes, verdicts)
            await self._trade(accepted)
            return verdicts

    async def _seed(self, instruments: set[str]) -> None:
        """After a restart the guard knows nothing: start each instrument from its stored quote."""
        for instrument in sorted(instruments):
            if not self._guard.knows(instrument):
                stored = await self._store.latest_quote(instrument)
                if stored is not None:
                    self._guard.remember(stored)

    async def _alert_refusals(self, quotes: Sequence[Quote], verdicts: Sequence[QuoteVerdict]) -> None:
        # One alert per instrument and batch: a feed gone bad refuses many quotes for one reason.
        refused: dict[str, list[QuoteVerdict]] = {}
        for quote, verdict in zip(quotes, verdicts, strict=True):
            if not verdict.accepted:
                refused.setdefault(quote.instrument, []).append(verdict)
        for instrument, problems in refused.items():
            first = problems[0]
            what = f"{instrument} quote refused ({first.problem}): {first.detail}"
            if len(problems) > 1:
                what = f"{len(problems)} {instrument} quotes refused; the first ({first.problem}): {first.detail}"
            await self._alerts.alert(OpsAlert("quote_refused", Severity.WARNING, what, instrument, REFUSED_ACTION))

    async def _trade(self, accepted: Sequence[Quote]) -> None:
        if self._paper is None:
            return
        events: list[TradeEvent] = []
        for quote in accepted:
            try:
                events.extend(await self._paper.on_quote(quote))
            except Exception as exc:  # noqa: BLE001 - whatever the adapter raised: the quotes are stored, say so
                log.exception("event=paper_broker_failed instrument=%s", quote.instrument)
                await self._alerts.alert(OpsAlert(
                    "paper_broker_failed", Severity.CRITICAL,
                    f"the paper broker failed on a {quote.instrument} quote: {type(exc).__name__}: {str(exc)[:300]}",
                    quote.instrument,
                    "the quote is stored; fills and closes resume with the next quote, which re-reads the book",
                ))
                break  # the rest would most likely fail alike; the next batch tries again
        if events:
            try:
                await self._notifier.trade_events(events)
            except Exception:  # noqa: BLE001 - the trades stand in the book whether or not the message went out
                log.exception("event=trade_events_undelivered events=%d", len(events))
