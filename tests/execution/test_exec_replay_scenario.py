"""End to end without storage or Telegram: two approved signals become sized orders, are planned against
the first quote, and a replayed CSV drives them through the QuoteGuard into the paper broker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.brokers.paper import PaperBroker
from bot.feeds.csv_replay import CsvReplayFeed
from core.execution_check import ExecutionPolicy, plan_entry
from core.memory_trade_store import InMemoryTradeStore
from core.order_builder import build_order_request
from core.order_rules import OrderRules
from core.orders import OrderKind
from core.quotes import QuoteGuard, QuoteProblem
from core.signals import Side
from core.trades import CloseReason, TradeEventKind
from tests.execution.exec_support import TABLE, D, signal
from tests.support import START, FakeClock

TICKS = """time,instrument,bid,ask
2026-11-23T10:00:01Z,XAUUSD,2400.30,2400.60
2026-11-23T10:00:02Z,XAUUSD,2400.10,2400.40
2026-11-23T10:00:03Z,XAUUSD,240010.00,240010.30
2026-11-23T10:00:04Z,XAUUSD,2405.50,2405.80
2026-11-23T10:00:03Z,XAUUSD,2380.00,2380.30
2026-11-23T10:00:06Z,XAUUSD,2420.00,2420.30
"""


async def test_a_buy_hits_target_and_a_sell_hits_stop(tmp_path: Path) -> None:
    (tmp_path / "ticks.csv").write_text(TICKS)
    feed = CsvReplayFeed.from_csv(tmp_path / "ticks.csv", TABLE)
    clock = FakeClock(START)
    store = InMemoryTradeStore()
    broker = PaperBroker(store, clock, TABLE, starting_balance=D(10000))
    guard = QuoteGuard(clock, max_jump_ratio=D(10), max_future_skew=timedelta(minutes=1))
    spec = TABLE.spec("XAUUSD")
    rules = OrderRules(min_stop_distance_points=5, min_reward_risk=D("1.5"), expiry_hours=100)

    orders = {}
    for account, sig in [
        ("alice", signal("XAUUSD", Side.BUY, "2400.50", "2390.00", "2420.00", "sig-buy")),
        ("bob", signal("XAUUSD", Side.SELL, "2400.20", "2405.20", "2390.20", "sig-sell")),
    ]:
        equity = await broker.account_equity(account)
        orders[account] = build_order_request(
            sig, account_id=account, equity=equity, spec=spec, rules=rules, risk_percent=D(1), now=clock.now()
        )
    # 1 % of 10000 over 10.50 and 5.00 of stop, 100 oz a lot: 0.0952 -> 0.09 and 0.20 lots
    assert (orders["alice"].volume, orders["bob"].volume) == (D("0.09"), D("0.20"))

    first = feed.advance()
    assert first is not None and guard.check(first).accepted
    await broker.on_quote(first)
    policy = ExecutionPolicy(max_slippage_points=20)
    kinds = {account: plan_entry(req, first, spec, policy) for account, req in orders.items()}
    assert kinds == {"alice": OrderKind.LIMIT, "bob": OrderKind.STOP}
    for account, req in orders.items():
        await broker.place(req, kinds[account])

    events, refused = [], []
    async for quote in feed.replay():
        verdict = guard.check(quote)
        if verdict.accepted:
            events.extend(await broker.on_quote(quote))
        else:
            refused.append((quote.time.second, verdict.problem))

    assert refused == [(3, QuoteProblem.JUMP), (3, QuoteProblem.OUT_OF_ORDER)]
    summary = [(e.kind, e.order.request.account_id, e.position.close_reason if e.position else None) for e in events]
    assert summary == [
        (TradeEventKind.FILLED, "alice", None),
        (TradeEventKind.FILLED, "bob", None),
        (TradeEventKind.CLOSED, "bob", CloseReason.STOP_LOSS),
        (TradeEventKind.CLOSED, "alice", CloseReason.TAKE_PROFIT),
    ]
    # alice bought 0.09 at 2400.40, sold at 2420.00: 19.60 * 9 = +176.40
    # bob sold 0.20 at 2400.10, bought back at 2405.80: -5.70 * 20 = -114.00
    balances = {a: (await store.account(a)).balance for a in ("alice", "bob")}  # type: ignore[union-attr]
    assert balances == {"alice": D("10176.40"), "bob": D("9886.00")}
    assert [(p.balance, p.equity) for p in await store.equity_points("alice")] == [
        (D(10000), D(10000)),  # the opening balance
        (D(10000), D("9997.30")),  # marked at the bid 2400.10: -0.30 * 9
        (D("10176.40"), D("10176.40")),
    ]
    assert [(p.balance, p.equity) for p in await store.equity_points("bob")] == [
        (D(10000), D(10000)),
        (D(10000), D("9994.00")),  # marked at the ask 2400.40: -0.30 * 20
        (D("9886.00"), D("9886.00")),
    ]
