"""Assembling the trading side: the trade store, the broker and the account map."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.brokers.mt5 import MT5Broker, MT5Login
from bot.brokers.paper import PaperBroker
from bot.config import Settings
from core.accounts import AccountMap
from core.clock import Clock
from core.instruments import InstrumentTable
from core.trading_ports import Broker
from storage.batch_runner import BatchRunner
from storage.trade_store import SqlTradeStore


@dataclass(frozen=True)
class TradingDesk:
    accounts: AccountMap
    trade_store: SqlTradeStore  # the paper broker's book; also what /history and /stats read
    broker: Broker
    paper: PaperBroker | None  # the broker when it is the paper one: it is driven by the quotes


@asynccontextmanager
async def open_trading(settings: Settings, runner: BatchRunner, clock: Clock, instruments: InstrumentTable) -> AsyncIterator[TradingDesk]:
    traders = frozenset(settings.telegram.traders)
    trade_store = SqlTradeStore(runner)
    if settings.broker.kind == "paper":
        paper = PaperBroker(trade_store, clock, instruments, starting_balance=settings.broker.starting_balance)
        yield TradingDesk(AccountMap(traders), trade_store, paper, paper)
        return
    mt5 = settings.broker.mt5
    account_id = f"mt5-{mt5.login}"
    login = MT5Login(mt5.login, mt5.password.get_secret_value(), mt5.server, mt5.path or None)
    broker = MT5Broker(account_id, login, clock)
    await broker.connect()
    try:
        yield TradingDesk(AccountMap(traders, shared_account=account_id), trade_store, broker, None)
    finally:
        await broker.close()
