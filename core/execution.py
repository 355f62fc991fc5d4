"""Executing approvals: each trader's approval becomes one order on that trader's account, exactly once.

The queue hands out approvals under a lease (an atomic claim), so two workers or two processes never work
on one at the same time; a worker that dies mid-way loses its lease and the approval is claimed again.
Placing is idempotent toward the broker (the order's idempotency key is derived from the signal and the
account), so a second attempt after a crash finds the first order instead of placing another."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from core.accounts import AccountMap
from core.clock import Clock
from core.currency import conversion_pairs, quote_currency_value
from core.errors import BrokerError, ExecutionRefused, NoQuote, OrderRefused
from core.execution_check import ExecutionPolicy, plan_entry
from core.instruments import InstrumentTable
from core.log_context import signal_scope
from core.notify import ExecutionNote, ExecutionNoteKind, OpsAlert, OpsAlerts, Severity, TraderNotifier
from core.order_builder import build_order_request
from core.order_rules import OrderRules
from core.orders import Order
from core.signals import Signal
from core.trading_ports import Broker, PriceFeed

log = logging.getLogger(__name__)


class ExecutionEnd(enum.StrEnum):
    """How an approval ended when it did not become an order."""

    REFUSED = "refused"  # the market or a rule no longer fits the signal
    BLOCKED = "blocked"  # the drawdown guard blocks the account
    FAILED = "failed"  # the broker kept failing or rejected the order


@dataclass(frozen=True)
class PendingExecution:
    decision_id: int
    signal: Signal
    trader_id: int
    decided_at: datetime
    attempts: int  # broker failures so far
    waiting: bool  # the trader was already told the order waits for a quote


class ExecutionQueue(Protocol):
    async def claim(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[PendingExecution]:
        """Atomically take up to `limit` due approvals for `worker` until `now + lease`."""
        ...

    async def placed(self, item: PendingExecution, worker: str, order: Order, now: datetime) -> bool:
        """Record the order; answers False when `worker` no longer holds the claim (nothing written)."""
        ...

    async def ended(self, item: PendingExecution, worker: str, end: ExecutionEnd, note: str, now: datetime) -> bool: ...

    async def retry_later(
        self, item: PendingExecution, worker: str, due: datetime, note: str, *, broker_failure: bool, waiting: bool = False
    ) -> bool:
        """Give the claim back, due again at `due`; a broker failure counts as an attempt."""
        ...


class RiskGate(Protocol):
    async def is_blocked(self, account_id: str) -> bool: ...


@dataclass(frozen=True)
class ExecutionSettings:
    rules: OrderRules
    policy: ExecutionPolicy
    risk_percent: Decimal
    batch: int
    lease: timedelta
    max_attempts: int
    account_currency: str = "USD"  # sizes are computed in it (core.currency)
    quote_wait: timedelta = timedelta(seconds=5)  # how soon to look again for a quote that was missing
    backoff: timedelta = timedelta(seconds=2)  # first retry after a broker failure; doubles each time


class ExecutionService:
    def __init__(
        self,
        queue: ExecutionQueue,
        broker: Broker,
        prices: PriceFeed,
        instruments: InstrumentTable,
        risk: RiskGate,
        accounts: AccountMap,
        notifier: TraderNotifier,
        alerts: OpsAlerts,
        clock: Clock,
        settings: ExecutionSettings,
        worker: str,
    ) -> None:
        self._queue = queue
        self._broker = broker
        self._prices = prices
        self._instruments = instruments
        self._risk = risk
        self._accounts = accounts
        self._notifier = notifier
        self._alerts = alerts
        self._clock = clock
        self._settings = settings
        self._worker = worker

    @property
    def batch(self) -> int:
        return self._settings.batch

    async def run_once(self) -> int:
        """Claim one batch of due approvals and execute each; answers how many were claimed."""
        claimed = await self._queue.claim(self._worker, self._clock.now(), self._settings.lease, self._settings.batch)
        for item in claimed:
            with signal_scope(item.signal.id):
                try:
                    await self._execute(item)
                except Exception as exc:  # noqa: BLE001 - one bad approval must not stop the batch
                    log.exception("event=execution_error decision_id=%d signal_id=%s", item.decision_id, item.signal.id)
                    await self._broker_failed(item, f"unexpected error: {type(exc).__name__}: {exc}", retryable=True)
        return len(claimed)

    async def _execute(self, item: PendingExecution) -> None:
        signal = item.signal
        account = self._accounts.account_of(item.trader_id)
        if await self._risk.is_blocked(account):
            await self._end(item, ExecutionEnd.BLOCKED, "the drawdown guard blocks new orders on your account")
            return
        quote = await self._prices.latest_quote(signal.instrument)
        if quote is None:
            await self._wait_for_quote(item, f"no quote for {signal.instrument}")
            return
        spec = self._instruments.spec(signal.instrument)
        currency = self._settings.account_currency
        currency_value = await quote_currency_value(spec, currency, self._prices.latest_quote)
        if currency_value is None:
            pairs = " or ".join(conversion_pairs(spec, currency))
            await self._wait_for_quote(item, f"no quote for {pairs} to size the order in {currency}")
            return
        now = self._clock.now()
        try:
            equity = await self._broker.account_equity(account)
            request = build_order_request(
                signal, account_id=account, equity=equity, spec=spec, rules=self._settings.rules,
                risk_percent=self._settings.risk_percent, now=now, currency_value=currency_value,
            )
            kind = plan_entry(request, quote, spec, self._settings.policy)
            order = await self._broker.place(request, kind)
        except (OrderRefused, ExecutionRefused) as refusal:
            await self._end(item, ExecutionEnd.REFUSED, str(refusal))
            return
        except NoQuote:  # the broker has no price of its own yet
            await self._wait_for_quote(item, f"no quote for {signal.instrument}")
            return
        except BrokerError as exc:
            await self._broker_failed(item, str(exc), retryable=exc.retryable)
            return
        if await self._queue.placed(item, self._worker, order, self._clock.now()):
            log.info("event=order_placed decision_id=%d signal_id=%s order_id=%s kind=%s status=%s",
                     item.decision_id, signal.id, order.id, order.kind, order.status)
            await self._notifier.execution(ExecutionNote(ExecutionNoteKind.PLACED, item.trader_id, signal, order=order))

    async def _wait_for_quote(self, item: PendingExecution, missing: str) -> None:
        """No price yet (`missing` says which): the order waits (the trader is told once) until the signal's
        order would have expired."""
        now = self._clock.now()
        if now >= item.decided_at + timedelta(hours=self._settings.rules.expiry_hours):
            await self._end(item, ExecutionEnd.REFUSED, f"{missing} arrived before the order would expire")
            return
        note = f"{missing} yet; the order waits for one"
        told = await self._queue.retry_later(
            item, self._worker, now + self._settings.quote_wait, note, broker_failure=False, waiting=True
        )
        if told and not item.waiting:
            await self._notifier.execution(ExecutionNote(ExecutionNoteKind.WAITING, item.trader_id, item.signal, note))

    async def _broker_failed(self, item: PendingExecution, reason: str, *, retryable: bool) -> None:
        attempts = item.attempts + 1
        if retryable and attempts < self._settings.max_attempts:
            due = self._clock.now() + self._settings.backoff * 2 ** (attempts - 1)
            log.warning("event=execution_retry decision_id=%d attempt=%d reason=%s", item.decision_id, attempts, reason)
            await self._queue.retry_later(item, self._worker, due, reason, broker_failure=True)
            return
        why = f"after {attempts} attempts: {reason}" if retryable else reason
        if await self._end(item, ExecutionEnd.FAILED, f"the broker failed {why}"):
            await self._alerts.alert(OpsAlert(
                kind="broker_retries_exhausted" if retryable else "broker_rejected",
                severity=Severity.CRITICAL,
                what=f"placing the order for signal {item.signal.short_id} failed {why}",
                subject=f"account {self._accounts.account_of(item.trader_id)}",
                action="marked the approval failed (no order is open at the broker for it) and told the trader",
            ))

    async def _end(self, item: PendingExecution, end: ExecutionEnd, note: str) -> bool:
        if not await self._queue.ended(item, self._worker, end, note, self._clock.now()):
            return False
        log.info("event=execution_%s decision_id=%d signal_id=%s reason=%s", end, item.decision_id, item.signal.id, note)
        # Each way an approval can end has the trader's note of the same name.
        await self._notifier.execution(ExecutionNote(ExecutionNoteKind(end.value), item.trader_id, item.signal, note))
        return True
