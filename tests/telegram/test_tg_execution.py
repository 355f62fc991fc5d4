"""The whole desk, from a producer's signal to a closed trade, as the traders read it: approvals through the
emulator become paper orders at once, a replayed CSV of quotes fills them and takes them to their target or
stop, and balances, equity points and /stats come out as computed by hand.

XAUUSD: point 0.01, contract size 100, volume step 0.01. Each trader risks 1 % of 10,000.00 = 100.00."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.app import instrument_table
from bot.emulator import BotApiEmulator
from bot.feeds.csv_replay import load_price_file
from bot.feeds.replay_runner import QuoteReplay
from bot.jobs.expiry import close_approval_windows
from core.quotes import Quote
from tests.conftest import Api
from tests.telegram.conftest import TRADERS, card_for, post_signal, reply_to

ALICE, BOB = TRADERS
D = Decimal

# Each quote is stamped with the desk's clock as it is replayed; the file's times only order them.
TICKS = """time,instrument,bid,ask
2026-11-23T10:00:01Z,XAUUSD,2400.20,2400.50
2026-11-23T10:00:02Z,XAUUSD,2399.90,2400.20
2026-11-23T10:00:03Z,XAUUSD,2405.10,2405.40
2026-11-23T10:00:04Z,XAUUSD,2420.10,2420.40
"""


async def _placed_note(emulator: BotApiEmulator, trader: int) -> str:
    messages = await emulator.wait_for_messages(trader, lambda ms: any("Order placed" in (m.text or "") for m in ms))
    return next(m.text or "" for m in messages if "Order placed" in (m.text or ""))


async def _replay(desk: Api, path: Path) -> None:
    quotes = load_price_file(path, instrument_table(desk.desk.settings)).quotes

    async def pass_time(seconds: float) -> None:  # the replay's pacing, on the test's clock
        desk.clock.advance(seconds)

    await QuoteReplay(quotes, desk.desk.quotes, desk.clock, quotes_per_second=1, sleep=pass_time).run()


async def test_a_buy_and_a_sell_approved_by_two_traders_reach_target_and_stop(
    desk: Api, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    await desk.desk.quotes.submit([Quote("XAUUSD", D("2400.30"), D("2400.60"), desk.clock.now())])
    buy = await post_signal(desk, side="buy", price=2400.50, stop_loss=2390.00, take_profit=2420.00)
    sell = await post_signal(desk, side="sell", price=2400.00, stop_loss=2405.00, take_profit=2390.00, version=2)

    emulator.press(ALICE, (await card_for(emulator, ALICE, buy)).message_id, button="Approve")
    emulator.press(BOB, (await card_for(emulator, BOB, sell)).message_id, button="Approve")

    # Sizes: 100.00 / (10.50 x 100) = 0.095 -> 0.09 lot; 100.00 / (5.00 x 100) = 0.20 lot. The buy's entry is
    # below the ask 2400.60 (a limit), the sell's below the bid 2400.30 (a stop).
    assert "0.09 lots, limit at 2400.5" in await _placed_note(emulator, ALICE)
    assert "0.2 lots, stop at 2400" in await _placed_note(emulator, BOB)

    (tmp_path / "ticks.csv").write_text(TICKS)
    await _replay(desk, tmp_path / "ticks.csv")

    # Alice bought at the ask 2400.50 and sold at the bid 2420.10: 19.60 x 0.09 x 100 = +176.40.
    # Bob sold at the bid 2399.90 and bought back at the ask 2405.40: -5.50 x 0.20 x 100 = -110.00.
    await emulator.wait_for_messages(ALICE, lambda ms: any("take profit" in (m.text or "") for m in ms))
    await emulator.wait_for_messages(BOB, lambda ms: any("stop loss" in (m.text or "") for m in ms))
    store, accounts = desk.desk.trading.trade_store, desk.desk.trading.accounts
    balances = {t: (await store.account(accounts.account_of(t))).balance for t in TRADERS}  # type: ignore[union-attr]
    assert balances == {ALICE: D("10176.40"), BOB: D("9890.00")}

    curve = {t: [(p.balance, p.equity) for p in await store.equity_points(accounts.account_of(t))] for t in TRADERS}
    # A point when the account opens, at each fill and close; marks in between at most once a minute.
    assert curve[ALICE] == [
        (D(10000), D(10000)),
        (D(10000), D("9997.30")),  # filled; marked at the bid 2400.20: -0.30 x 0.09 x 100 = -2.70
        (D("10176.40"), D("10176.40")),  # closed at the target
    ]
    assert curve[BOB] == [
        (D(10000), D(10000)),
        (D(10000), D("9994.00")),  # filled; marked at the ask 2400.20: -0.30 x 0.20 x 100 = -6.00
        (D("9890.00"), D("9890.00")),  # closed at the stop
    ]

    alice_stats = await reply_to(emulator, ALICE, "/stats")
    assert "Trades 1: 1 won, 0 lost" in alice_stats and "Win rate 100.00 %" in alice_stats
    assert "Net PnL +176.40" in alice_stats and "Expectancy +176.40 per trade" in alice_stats
    bob_stats = await reply_to(emulator, BOB, "/stats")
    assert "Trades 1: 0 won, 1 lost" in bob_stats and "Net PnL -110.00 (won 0.00, lost 110.00)" in bob_stats
    assert "Max drawdown 1.10 %" in bob_stats  # 10,000.00 down to 9,890.00

    status, _, listed = await desk.request("GET", f"/api/v1/signals/{buy['id']}")
    assert status == 200 and listed["status"] == "executed"  # other traders may still approve it

    desk.clock.advance(62 * 60)  # past the approval window (and the minute's grace before settling): nothing more can happen to either signal
    await close_approval_windows(desk.desk.telegram.approvals, desk.desk.telegram.sender)
    for signal in (buy, sell):
        status, _, listed = await desk.request("GET", f"/api/v1/signals/{signal['id']}")
        assert status == 200 and listed["status"] == "closed"
