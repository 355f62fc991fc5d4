"""The paper broker: simulated execution against the quotes it is fed, one account per trader, every
step persisted through the TradeStore port."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from core.clock import Clock
from core.currency import quote_currency_value
from core.errors import InvalidOrderTransition, NoQuote, TradeNotFound
from core.ids import SignalIdFactory
from core.instruments import InstrumentTable
from core.orders import Order, OrderKind, OrderRequest, OrderStatus
from core.quotes import Quote
from core.signals import Side
from core.trades import (
    Account,
    CloseReason,
    EquityPoint,
    Fill,
    FillKind,
    Position,
    TradeEvent,
    TradeEventKind,
    entry_price,
    exit_price,
    pnl,
)
from core.trading_ports import PriceFeed, TradeStore

log = logging.getLogger(__name__)

EXPIRED = "expired"
CENT = Decimal("0.01")  # converted profits are booked to the cent


class PaperBroker:
    """Feed it only quotes that passed the QuoteGuard: it trades on whatever `on_quote` receives.

    Times: fills, closes and expiries driven by a quote carry the quote's time; those driven by a call
    (place, cancel, close_position, expire_due) carry the clock's. A pending order ignores quotes older
    than itself, so a replay must run with a clock on the replayed timeline.

    With no quote of its own for an instrument (a restarted process, or one that is not fed quotes) it asks
    `prices`, the shared store of accepted quotes, so every process prices market orders, closes and
    equity alike.

    Accounts are in `account_currency`: a profit made in another currency (yen on USDJPY) is converted at
    the latest quote of a pair that converts it (core.currency), to the cent."""

    def __init__(
        self,
        store: TradeStore,
        clock: Clock,
        instruments: InstrumentTable,
        *,
        starting_balance: Decimal,
        equity_interval: timedelta = timedelta(minutes=1),
        prices: PriceFeed | None = None,
        account_currency: str = "USD",
    ) -> None:
        self._store = store
        self._clock = clock
        self._instruments = instruments
        self._starting_balance = starting_balance
        self._equity_interval = equity_interval  # at most one mark-to-market point per account per interval
        self._ids = SignalIdFactory()
        self._last_quotes: dict[str, Quote] = {}
        self._prices = prices
        self._account_currency = account_currency
        self._last_points: dict[str, datetime] = {}
        # One book, one writer: quotes, placements and closes never interleave half-way.
        self._lock = asyncio.Lock()

    # --- the Broker port ---

    async def place(self, request: OrderRequest, kind: OrderKind) -> Order:
        async with self._lock:
            quote = await self._quote(request.instrument)
            if kind is OrderKind.MARKET and quote is None:
                raise NoQuote(request.instrument)
            await self._account(request.account_id)
            now = self._clock.now()
            order = await self._store.add_order(Order(self._ids.new_id(now), request, kind, OrderStatus.NEW, now))
            # Also resumes a market order stored by an attempt that stopped before its fill.
            if order.status is OrderStatus.NEW and order.kind is OrderKind.MARKET and quote is not None:
                events = await self._fill(order, quote, now)
                await self._record_equity(events, now)
                return await self._stored_order(order.id)
            return order

    async def cancel(self, order_id: str) -> None:
        async with self._lock:
            order = await self._stored_order(order_id)
            cancelled = order.moved_to(OrderStatus.CANCELLED, self._clock.now(), "cancelled")
            if not await self._store.cancel_order(cancelled):
                current = await self._stored_order(order_id)
                raise InvalidOrderTransition(order_id, current.status, OrderStatus.CANCELLED)

    async def close_position(self, position_id: str, reason: CloseReason = CloseReason.MANUAL) -> Position:
        async with self._lock:
            position = await self._store.position(position_id)
            if position is None or not position.is_open:
                raise TradeNotFound(f"no open position {position_id}")
            quote = await self._quote(position.instrument)
            if quote is None:
                raise NoQuote(position.instrument)
            now = self._clock.now()
            event = await self._close(position, exit_price(position.side, quote), now, reason)
            if event is None:
                raise TradeNotFound(f"position {position_id} was closed meanwhile")
            await self._record_equity([event], now)
            assert event.position is not None
            return event.position

    async def positions(self, account_id: str) -> list[Position]:
        return await self._store.open_positions(account_id=account_id)

    async def pending_order_ids(self, account_id: str) -> list[str]:
        return [o.id for o in await self._store.orders(status=OrderStatus.NEW) if o.request.account_id == account_id]

    async def account_equity(self, account_id: str) -> Decimal:
        account = await self._account(account_id)
        return account.balance + await self._open_pnl(account_id)

    # --- driving the simulation ---

    async def on_quote(self, quote: Quote) -> list[TradeEvent]:
        """Apply one quote: close positions at SL/TP, expire or fill pending orders, mark equity."""
        async with self._lock:
            self._last_quotes[quote.instrument] = quote
            events: list[TradeEvent] = []
            for position in await self._store.open_positions(instrument=quote.instrument):
                events.extend(await self._close_at_level(position, quote))
            for order in await self._store.orders(status=OrderStatus.NEW, instrument=quote.instrument):
                if order.request.expires_at <= quote.time:
                    events.extend(await self._cancel(order, quote.time, EXPIRED))
                elif order.request.created_at <= quote.time and _reaches_entry(order, quote):
                    events.extend(await self._fill(order, quote, quote.time))
            holders = {p.account_id for p in await self._store.open_positions(instrument=quote.instrument)}
            await self._record_equity(events, quote.time, marked=holders)
            return events

    async def expire_due(self) -> list[TradeEvent]:
        """Cancel every pending order past its expiry, quote or no quote (run it from a periodic job)."""
        async with self._lock:
            now = self._clock.now()
            events: list[TradeEvent] = []
            for order in await self._store.orders(status=OrderStatus.NEW):
                if order.request.expires_at <= now:
                    events.extend(await self._cancel(order, now, EXPIRED))
            return events

    # --- steps ---

    async def _fill(self, order: Order, quote: Quote, at: datetime) -> list[TradeEvent]:
        request = order.request
        price = entry_price(request.side, quote)
        opened = order.moved_to(OrderStatus.OPEN, at)
        # One position per order, so the position takes the order's id (as MT5's position identifier does).
        position = Position(
            id=order.id,
            account_id=request.account_id,
            order_id=order.id,
            instrument=request.instrument,
            side=request.side,
            volume=request.volume,
            open_price=price,
            stop_loss=request.stop_loss,
            take_profit=request.take_profit,
            opened_at=at,
        )
        fill = self._fill_record(position, FillKind.OPEN, price, at)
        if not await self._store.fill_order(opened, position, fill):
            return []
        # A gap can carry the fresh position straight through its stop or target.
        return [TradeEvent(TradeEventKind.FILLED, opened, position), *await self._close_at_level(position, quote)]

    async def _close_at_level(self, position: Position, quote: Quote) -> list[TradeEvent]:
        reason = _exit_reason(position, quote)
        if reason is None:
            return []
        event = await self._close(position, exit_price(position.side, quote), quote.time, reason)
        return [] if event is None else [event]

    async def _close(self, position: Position, price: Decimal, at: datetime, reason: CloseReason) -> TradeEvent | None:
        realised = await self._pnl(position, price)
        closed = dataclasses.replace(position, closed_at=at, close_price=price, close_reason=reason, pnl=realised)
        order = (await self._stored_order(position.order_id)).moved_to(OrderStatus.CLOSED, at, reason)
        fill = dataclasses.replace(self._fill_record(position, FillKind.CLOSE, price, at), pnl=realised)
        if not await self._store.close_position(order, closed, fill):
            return None
        return TradeEvent(TradeEventKind.CLOSED, order, closed)

    async def _cancel(self, order: Order, at: datetime, reason: str) -> list[TradeEvent]:
        cancelled = order.moved_to(OrderStatus.CANCELLED, at, reason)
        if not await self._store.cancel_order(cancelled):
            return []
        return [TradeEvent(TradeEventKind.CANCELLED, cancelled)]

    def _fill_record(self, position: Position, kind: FillKind, price: Decimal, at: datetime) -> Fill:
        return Fill(
            id=self._ids.new_id(at),
            order_id=position.order_id,
            account_id=position.account_id,
            instrument=position.instrument,
            side=position.side,
            kind=kind,
            volume=position.volume,
            price=price,
            time=at,
        )

    async def _record_equity(
        self, events: Iterable[TradeEvent], at: datetime, marked: Iterable[str] = ()
    ) -> None:
        """A point for every account whose balance or positions changed; a mark-to-market point for the
        other `marked` accounts at most once per equity interval."""
        changed = {e.order.request.account_id for e in events if e.kind is not TradeEventKind.CANCELLED}
        for account_id in sorted(changed | set(marked)):
            last = self._last_points.get(account_id)
            if account_id not in changed and last is not None and at - last < self._equity_interval:
                continue
            account = await self._account(account_id)
            equity = account.balance + await self._open_pnl(account_id)
            await self._store.add_equity_point(EquityPoint(account_id, at, account.balance, equity))
            self._last_points[account_id] = at

    async def _open_pnl(self, account_id: str) -> Decimal:
        """Open positions marked at the price they would close at; one without a quote yet counts as flat."""
        total = Decimal(0)
        for position in await self._store.open_positions(account_id=account_id):
            quote = await self._quote(position.instrument)
            if quote is not None:
                total += await self._pnl(position, exit_price(position.side, quote))
        return total

    async def _pnl(self, position: Position, price: Decimal) -> Decimal:
        """Profit in the account's currency."""
        spec = self._instruments.spec(position.instrument)
        profit = pnl(position.side, position.open_price, price, position.volume, spec.contract_size)
        value = await quote_currency_value(spec, self._account_currency, self._quote)
        if value == 1:
            return profit
        if value is None:
            # Placing the order needed this rate, so a quote for it existed; without one now the profit is
            # booked as it is rather than not at all, and said loudly.
            log.error("event=pnl_not_converted instrument=%s currency=%s account_currency=%s position=%s",
                      spec.name, spec.quote_currency, self._account_currency, position.id)
            return profit
        return (profit * value).quantize(CENT, ROUND_HALF_EVEN)

    async def _quote(self, instrument: str) -> Quote | None:
        quote = self._last_quotes.get(instrument)
        if quote is None and self._prices is not None:
            quote = await self._prices.latest_quote(instrument)
        return quote

    async def _account(self, account_id: str) -> Account:
        account = await self._store.account(account_id)
        if account is not None:
            return account
        opening = Account(account_id, self._starting_balance, self._starting_balance, self._clock.now())
        return await self._store.open_account(opening)

    async def _stored_order(self, order_id: str) -> Order:
        order = await self._store.order(order_id)
        if order is None:
            raise TradeNotFound(f"no order {order_id}")
        return order


def _reaches_entry(order: Order, quote: Quote) -> bool:
    """Whether `quote` triggers the pending order: a limit when the market comes to the entry or better,
    a stop when it comes to the entry or beyond."""
    if order.kind is OrderKind.MARKET:
        return True
    request = order.request
    price = entry_price(request.side, quote)
    at_or_below = price <= request.entry
    wants_lower = (request.side is Side.BUY) == (order.kind is OrderKind.LIMIT)
    return at_or_below if wants_lower else price >= request.entry


def _exit_reason(position: Position, quote: Quote) -> CloseReason | None:
    price = exit_price(position.side, quote)
    if position.side is Side.BUY:
        hit_stop, hit_target = price <= position.stop_loss, price >= position.take_profit
    else:
        hit_stop, hit_target = price >= position.stop_loss, price <= position.take_profit
    if hit_stop:  # both at once only on a gap through the whole range: assume the worse
        return CloseReason.STOP_LOSS
    return CloseReason.TAKE_PROFIT if hit_target else None
