"""Assembling the trading side: the trade store, the quote store, the broker and the account map; and the
quote intake every price source feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot.brokers.mt5 import MT5Broker, MT5Login
from bot.brokers.paper import PaperBroker
from bot.config import Settings
from core.accounts import AccountMap
from core.clock import Clock
from core.instruments import InstrumentTable
from core.notify import OpsAlerts, TraderNotifier
from core.quote_intake import QuoteIntake
from core.quotes import QuoteGuard
from core.trading_ports import Broker
from storage.batch_runner import BatchRunner
from storage.quote_store import SqlQuoteStore
from storage.trade_store import SqlTradeStore


@dataclass(frozen=True)
class TradingDesk:
    accounts: AccountMap
    trade_store: SqlTradeStore  # the paper broker's book; also what /history and /stats read
    broker: Broker
    paper: PaperBroker | None  # the broker when it is the paper one: it is driven by the quotes
    prices: SqlQuoteStore  # the latest quotes and candles (a PriceFeed), shared by every process


@asynccontextmanager
async def open_trading(settings: Settings, runner: BatchRunner, clock: Clock, instruments: InstrumentTable) -> AsyncIterator[TradingDesk]:
    traders = frozenset(settings.telegram.traders)
    trade_store = SqlTradeStore(runner)
    prices = SqlQuoteStore(runner, bar_period=timedelta(minutes=settings.quotes.bar_minutes))
    if settings.broker.kind == "paper":
        paper = PaperBroker(
            trade_store, clock, instruments, starting_balance=settings.broker.starting_balance, prices=prices,
            account_currency=settings.broker.currency,
        )
        yield TradingDesk(AccountMap(traders), trade_store, paper, paper, prices)
        return
    mt5 = settings.broker.mt5
    account_id = f"mt5-{mt5.login}"
    login = MT5Login(mt5.login, mt5.password.get_secret_value(), mt5.server, mt5.path or None)
    broker = MT5Broker(account_id, login, clock, currency=settings.broker.currency)
    await broker.connect()
    try:
        yield TradingDesk(AccountMap(traders, shared_account=account_id), trade_store, broker, None, prices)
    finally:
        await broker.close()


def quote_intake(settings: Settings, trading: TradingDesk, clock: Clock, notifier: TraderNotifier, alerts: OpsAlerts) -> QuoteIntake:
    """The one intake of pushed and replayed quotes (one guard, so every quote is judged against the last)."""
    guard = QuoteGuard(
        clock, max_jump_ratio=settings.quotes.max_jump_ratio,
        max_future_skew=timedelta(seconds=settings.signals.max_clock_skew_seconds),
    )
    return QuoteIntake(guard, trading.prices, notifier, alerts, trading.paper)
