"""Trading commands and trader notifications as traders and admins read them, through the emulator, on
positions the desk's own paper broker opened and closed in its database.

XAUUSD has a contract size of 100, so 0.10 lot moves $10 per dollar and 0.20 lot $20."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.brokers.paper import PaperBroker
from bot.emulator import BotApiEmulator
from bot.emulator.model import SentMessage
from core.errors import BrokerUnavailable
from core.notify import DrawdownNote, ExecutionNote, ExecutionNoteKind
from core.orders import OrderKind
from core.position_desk import short_position_id
from core.signals import Side
from core.trades import Position, TradeEvent, TradeEventKind
from tests.conftest import Api
from tests.execution.exec_support import quote, request, signal
from tests.telegram.conftest import ADMIN, TRADERS, current

BUYER, SELLER = TRADERS


async def reply(emulator: BotApiEmulator, user: int, text: str) -> SentMessage:
    before = len(emulator.messages(user))
    emulator.say(user, text)
    return (await emulator.wait_for_messages(user, before + 1, timeout=10))[before]


async def text_of(emulator: BotApiEmulator, user: int, text: str) -> str:
    return (await reply(emulator, user, text)).text or ""


def paper(desk: Api) -> PaperBroker:
    broker = desk.desk.trading.paper
    assert broker is not None
    return broker


async def open_book(desk: Api) -> tuple[Position, Position]:
    """BUYER buys 0.10 at 2400.50 (ask); SELLER sells 0.20 at 2400.00 (bid); then the market ticks up to
    2401.00 / 2401.50."""
    broker, accounts = paper(desk), desk.desk.trading.accounts
    await broker.on_quote(quote("2400.00", "2400.50", 1))
    buy = request(Side.BUY, "2400.50", "2390.00", "2420.00", volume="0.10", account=accounts.account_of(BUYER), signal_id="s-buy")
    sell = request(Side.SELL, "2400.00", "2405.00", "2390.00", volume="0.20", account=accounts.account_of(SELLER), signal_id="s-sell")
    bought = await broker.place(buy, OrderKind.MARKET)
    sold = await broker.place(sell, OrderKind.MARKET)
    await broker.on_quote(quote("2401.00", "2401.50", 2))
    store = desk.desk.trading.trade_store
    positions = await store.position(bought.id), await store.position(sold.id)
    assert positions[0] is not None and positions[1] is not None
    return positions[0], positions[1]


async def test_positions_and_balance_show_the_traders_own_book(desk: Api, emulator: BotApiEmulator) -> None:
    long, short = await open_book(desk)
    listed = await text_of(emulator, BUYER, "/positions")
    assert f"#{short_position_id(long.id)} ▲ XAUUSD BUY 0.1 @ 2400.5 · SL 2390 · TP 2420" in listed
    assert short_position_id(short.id) not in listed  # the other trader's position is not shown

    # marked at the bid 2401.00: (2401.00 - 2400.50) x 0.10 x 100 = +5.00
    assert "Balance  10,000.00" in (balance := await text_of(emulator, BUYER, "/balance"))
    assert "Equity   10,005.00" in balance and "Open PnL +5.00" in balance and "Open positions: 1" in balance
    # the seller is marked at the ask 2401.50: (2400.00 - 2401.50) x 0.20 x 100 = -30.00
    assert "Equity   9,970.00" in await text_of(emulator, SELLER, "/balance")


async def test_a_trader_without_trades_sees_empty_answers(desk: Api, emulator: BotApiEmulator) -> None:
    assert await text_of(emulator, BUYER, "/positions") == "No open positions."
    assert await text_of(emulator, BUYER, "/history") == "No closed trades yet."
    assert "No closed trades yet." in await text_of(emulator, BUYER, "/stats")
    assert "Equity   10,000.00" in await text_of(emulator, BUYER, "/balance")


async def test_close_own_position_then_history_and_stats(desk: Api, emulator: BotApiEmulator) -> None:
    long, short = await open_book(desk)
    mine = short_position_id(long.id)
    closed = await text_of(emulator, BUYER, f"/close {mine}")
    assert closed == f"Closed #{mine} ▲ XAUUSD BUY 0.1 at 2401 · manual close · PnL +5.00."  # sold at the bid
    assert "Balance  10,005.00" in await text_of(emulator, BUYER, "/balance")
    assert await text_of(emulator, BUYER, "/positions") == "No open positions."

    again = await text_of(emulator, BUYER, f"/close #{mine.upper()}")
    assert again.startswith(f"Already closed: #{mine}") and "PnL +5.00" in again

    history = await text_of(emulator, BUYER, "/history")
    assert f"#{mine} ▲ XAUUSD BUY 0.1 at 2401 · manual close · PnL +5.00 · opened at 2400.5" in history
    stats = await text_of(emulator, BUYER, "/stats")
    assert "Trades 1: 1 won, 0 lost" in stats and "Win rate 100.00 %" in stats
    assert "Profit factor n/a (no losing trades to divide by)" in stats and "Expectancy +5.00 per trade" in stats


async def test_stop_loss_shows_in_history_stats_and_a_notification(desk: Api, emulator: BotApiEmulator) -> None:
    _, short = await open_book(desk)
    # the ask reaches the stop 2405: the sell closes at 2405.10, (2400.00 - 2405.10) x 0.20 x 100 = -102.00
    events = await paper(desk).on_quote(quote("2404.80", "2405.10", 3))
    assert desk.desk.telegram is not None
    await desk.desk.telegram.notifier.trade_events(events)

    mine = short_position_id(short.id)
    note = await emulator.wait_for_messages(SELLER, lambda ms: any("Closed" in (m.text or "") for m in ms))
    assert note[-1].text == f"🛑 Closed: #{mine} ▼ XAUUSD SELL 0.2 at 2405.1 · stop loss · PnL -102.00"
    assert not any("Closed" in (m.text or "") for m in emulator.messages(BUYER))

    assert "stop loss · PnL -102.00" in await text_of(emulator, SELLER, "/history 5")
    stats = await text_of(emulator, SELLER, "/stats")
    assert "Trades 1: 0 won, 1 lost" in stats and "Win rate 0.00 %" in stats and "Profit factor 0.00" in stats
    assert "Net PnL -102.00 (won 0.00, lost 102.00)" in stats
    # from the opening 10,000.00 to 9,898.00 after the stop: 102 / 10,000 = 1.02 %
    assert "Max drawdown 1.02 %" in stats


async def test_close_refuses_another_traders_position_and_unknown_ids(desk: Api, emulator: BotApiEmulator) -> None:
    long, short = await open_book(desk)
    theirs = short_position_id(short.id)
    assert await text_of(emulator, BUYER, f"/close {theirs}") == f"Position #{theirs} is not yours: you can close only your own positions."
    assert short_position_id(short.id) in await text_of(emulator, SELLER, "/positions")  # still open
    assert (await text_of(emulator, BUYER, "/close ffff0000")).startswith("You have no position #ffff0000.")


@pytest.mark.parametrize("command", ["/close", "/close zz-not-an-id", "/close 1a2b 3c4d", "/history ten", "/history 0", "/history 51"])
async def test_bad_arguments_get_a_usage_reply(desk: Api, emulator: BotApiEmulator, command: str) -> None:
    assert (await text_of(emulator, BUYER, command)).startswith("Usage: /" + command.split()[0][1:])


async def test_close_all_needs_a_confirmation_and_cancel_closes_nothing(desk: Api, emulator: BotApiEmulator) -> None:
    await open_book(desk)
    prompt = await reply(emulator, ADMIN, "/closeall")
    assert "Close all 2 open position(s) on 2 account(s)" in (prompt.text or "")
    assert [b.text for row in prompt.buttons for b in row] == ["Close all positions", "Cancel"]

    answer = await emulator.wait_for_answer(emulator.press(ADMIN, prompt.message_id, button="Cancel"))
    assert answer.text == "Cancelled: nothing was closed."
    await emulator.wait_until(lambda: current(emulator, prompt).edits > 0)
    assert current(emulator, prompt).buttons == () and "cancelled" in (current(emulator, prompt).text or "")
    assert len(await paper(desk).positions(desk.desk.trading.accounts.account_of(SELLER))) == 1


async def test_close_all_confirmed_closes_every_account_and_tells_the_owners(desk: Api, emulator: BotApiEmulator) -> None:
    long, short = await open_book(desk)
    prompt = await reply(emulator, ADMIN, "/closeall")
    before = len(emulator.messages(ADMIN))
    answer = await emulator.wait_for_answer(emulator.press(ADMIN, prompt.message_id, button="Close all positions"))
    assert answer.text == "Closing every open position…"
    report = (await emulator.wait_for_messages(ADMIN, before + 1))[before]
    assert report.text == "Closed 2 position(s)."
    assert current(emulator, prompt).buttons == ()

    for trader, position, pnl in ((BUYER, long, "+5.00"), (SELLER, short, "-30.00")):
        told = await emulator.wait_for_messages(trader, lambda ms: any("Closed" in (m.text or "") for m in ms))
        assert f"⏹ Closed: #{short_position_id(position.id)}" in (told[-1].text or "")
        assert f"manual close · PnL {pnl}" in (told[-1].text or "")
    assert await paper(desk).positions(desk.desk.trading.accounts.account_of(SELLER)) == []


async def test_close_all_is_for_admins_and_a_stale_prompt_closes_nothing(desk: Api, emulator: BotApiEmulator) -> None:
    await open_book(desk)
    assert (await text_of(emulator, BUYER, "/closeall")).startswith("This is for admins only")

    prompt = await reply(emulator, ADMIN, "/closeall")
    trader_press = await emulator.wait_for_answer(emulator.press(ADMIN, prompt.message_id, button="Close all positions", user_id=BUYER))
    assert trader_press.text is not None and trader_press.text.startswith("This is for admins only")

    desk.clock.advance(3 * 60)  # past the two-minute window
    stale = await emulator.wait_for_answer(emulator.press(ADMIN, prompt.message_id, button="Close all positions"))
    assert stale.text == "This prompt has expired: send /closeall again."
    assert len(await paper(desk).positions(desk.desk.trading.accounts.account_of(BUYER))) == 1


async def test_close_all_with_nothing_open_offers_no_button(desk: Api, emulator: BotApiEmulator) -> None:
    prompt = await reply(emulator, ADMIN, "/closeall")
    assert prompt.text == "No account has an open position: there is nothing to close." and prompt.buttons == ()


async def test_notifier_tells_each_trader_in_their_own_chat(desk: Api, emulator: BotApiEmulator) -> None:
    assert desk.desk.telegram is not None
    notifier = desk.desk.telegram.notifier
    refused = signal("XAUUSD", Side.BUY, "2400.50", "2390.00", "2420.00", signal_id="0190aaaa-0000-7000-8000-00000000abcd")
    await notifier.execution(ExecutionNote(ExecutionNoteKind.REFUSED, BUYER, refused, "the price already passed the stop"))
    told = await emulator.wait_for_messages(BUYER)
    assert told[-1].text == "⛔ No order for signal #0000abcd ▲ XAUUSD BUY: the price already passed the stop"

    account = desk.desk.trading.accounts.account_of(SELLER)
    await notifier.drawdown(DrawdownNote(account, breached=True, drawdown=Decimal("0.25"), cap=Decimal("0.2")))
    breach = (await emulator.wait_for_messages(SELLER))[-1].text or ""
    assert "Drawdown limit reached" in breach and "drawdown 25.00 %, cap 20.00 %" in breach and "New orders are blocked" in breach
    assert emulator.messages(BUYER) == told  # nothing about the seller's account reached the buyer

    long, _ = await open_book(desk)
    order = await desk.desk.trading.trade_store.order(long.order_id)
    assert order is not None
    filled = TradeEvent(TradeEventKind.FILLED, order, long)
    await notifier.trade_events([filled])
    fill_note = await emulator.wait_for_messages(BUYER, lambda ms: any("Filled" in (m.text or "") for m in ms))
    assert fill_note[-1].text == f"✅ Filled: #{short_position_id(long.id)} ▲ XAUUSD BUY 0.1 at 2400.5 · SL 2390 · TP 2420"


async def test_help_lists_the_trading_commands_by_role(desk: Api, emulator: BotApiEmulator) -> None:
    trader_help = await text_of(emulator, BUYER, "/help")
    assert "/positions" in trader_help and "/history — your closed trades: /history [n]" in trader_help and "/closeall" not in trader_help
    assert "/closeall — close every open position, after a confirm (admins)" in await text_of(emulator, ADMIN, "/help")



async def test_a_broker_that_does_not_answer_gets_a_clear_reply(desk: Api, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreachable(account_id: str) -> None:
        raise BrokerUnavailable("MT5 terminal is not connected")

    for method in ("positions", "account_equity"):  # the broker as a live one behaves when its terminal is down
        monkeypatch.setattr(paper(desk), method, unreachable)
    for command in ("/positions", "/balance", "/close 1a2b3c4d"):
        answer = await text_of(emulator, BUYER, command)
        assert answer == "The broker did not answer: MT5 terminal is not connected. Nothing was changed; try again shortly."
