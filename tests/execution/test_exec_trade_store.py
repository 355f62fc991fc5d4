"""The TradeStore contract on the in-memory store (the SQL store runs the same checks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from core.memory_trade_store import InMemoryTradeStore
from core.trading_ports import TradeStore
from tests.execution.trade_store_contract import CONTRACT


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__ for c in CONTRACT])
async def test_in_memory_trade_store(check: Callable[[TradeStore], Awaitable[None]]) -> None:
    await check(InMemoryTradeStore())
