"""What a trader may read about their own account: open positions, balance, closed trades, statistics."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.accounts import AccountMap
from core.stats import TradingStats, trading_stats
from core.trades import Position
from core.trading_ports import Broker, TradeStore


@dataclass(frozen=True)
class BalanceView:
    account_id: str
    balance: Decimal | None  # None: the store keeps no book of this account (a live broker's)
    equity: Decimal
    open_positions: int

    @property
    def open_pnl(self) -> Decimal | None:
        return None if self.balance is None else self.equity - self.balance


class AccountView:
    def __init__(self, broker: Broker, store: TradeStore, accounts: AccountMap) -> None:
        self._broker = broker
        self._store = store
        self._accounts = accounts

    async def positions(self, trader_id: int) -> list[Position]:
        return await self._broker.positions(self._accounts.account_of(trader_id))

    async def balance(self, trader_id: int) -> BalanceView:
        account_id = self._accounts.account_of(trader_id)
        # Equity first: the paper broker opens a trader's account on first use, so the balance is there after.
        equity = await self._broker.account_equity(account_id)
        account = await self._store.account(account_id)
        positions = await self._broker.positions(account_id)
        return BalanceView(account_id, None if account is None else account.balance, equity, len(positions))

    async def history(self, trader_id: int, limit: int) -> list[Position]:
        """The last `limit` closed positions, newest first."""
        closed = await self._store.closed_positions(self._accounts.account_of(trader_id))
        return closed[::-1][:limit]

    async def stats(self, trader_id: int) -> TradingStats:
        account_id = self._accounts.account_of(trader_id)
        return trading_stats(await self._store.closed_positions(account_id), await self._store.equity_points(account_id))
