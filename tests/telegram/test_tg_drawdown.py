"""Acceptance: a drawdown breach on a real desk (paper broker, SQL book, Bot API emulator). One heartbeat
cancels the account's pending orders and closes every position with reason drawdown, blocks new orders
(an approval is refused),
and tells the trader and the ops chat; a deposit that brings equity back within the cap, or an admin's
/drawdown reset, allows orders again."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from bot.emulator import BotApiEmulator
from bot.emulator.model import SentMessage
from bot.jobs.expiry import close_approval_windows
from core.trades import CloseReason
from storage.batch_runner import batch_runner_for
from storage.heartbeat_store import SqlHeartbeats
from storage.models import TradeAccountRow
from tests.conftest import Api
from tests.risk.desk_trades import buy, quote
from tests.telegram.conftest import ADMIN, TRADERS, card_for, post_signal, telegram_settings

D = Decimal
LOSER, OTHER = TRADERS
LOSER_ACCOUNT, OTHER_ACCOUNT = f"tg-{LOSER}", f"tg-{OTHER}"


@pytest.fixture
async def desk(emulator: BotApiEmulator, api_factory: Any, database_url: str) -> Api:
    settings = telegram_settings(database_url, emulator)
    # The test runs the heartbeat itself; the scheduler's own beat must not race it.
    settings = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(update={"heartbeat_seconds": 3600})})
    return await api_factory(settings)


async def holding_positions(api: Api) -> None:
    """The loser holds three positions (gold twice, euro once) and a buy limit on gold far below the
    market; the other trader one small gold position."""
    await quote(api, "XAUUSD", "2400.00", "2400.50")
    await quote(api, "EURUSD", "1.10000", "1.10002")
    await buy(api, LOSER_ACCOUNT, "XAUUSD", "0.5", "sig-gold-1")
    await buy(api, LOSER_ACCOUNT, "XAUUSD", "0.5", "sig-gold-2")
    await buy(api, LOSER_ACCOUNT, "EURUSD", "0.1", "sig-euro")
    await buy(api, OTHER_ACCOUNT, "XAUUSD", "0.01", "sig-gold-3")
    await buy(api, LOSER_ACCOUNT, "XAUUSD", "0.5", "sig-gold-dip", limit_at="2300.00")
    assert len(await api.desk.trading.broker.positions(LOSER_ACCOUNT)) == 3
    assert len(await api.desk.trading.broker.pending_order_ids(LOSER_ACCOUNT)) == 1


async def approve(api: Api, emulator: BotApiEmulator, external_id: str) -> dict[str, Any]:
    """The loser approves a buy at the current gold price, through its card; answers the signal."""
    signal = await post_signal(api, price=2375.00, stop_loss=2360.00, take_profit=2400.00, external_id=external_id)
    card = await card_for(emulator, LOSER, signal)
    await emulator.wait_for_answer(emulator.press(LOSER, card.message_id, button="Approve"))
    return signal


def containing(*parts: str) -> Callable[[list[SentMessage]], bool]:
    return lambda messages: any(all(part in (m.text or "") for part in parts) for m in messages)


async def said(emulator: BotApiEmulator, chat_id: int, *parts: str) -> str:
    messages = await emulator.wait_for_messages(chat_id, containing(*parts), timeout=10)
    return next(m.text or "" for m in messages if all(part in (m.text or "") for part in parts))


async def breach(api: Api, emulator: BotApiEmulator) -> None:
    await holding_positions(api)
    await api.desk.heartbeat.beat()  # within the cap: nothing happens
    assert not await api.desk.drawdown.is_blocked(LOSER_ACCOUNT)
    # Gold bought at the ask 2400.50 now sells at the bid 2374.50: 1 lot x 100 oz x 26.00 = 2600 lost, and
    # 0.20 on the euro's spread: equity 7399.80, 26.00 % below the 10000 start, past the 20 % cap.
    await quote(api, "XAUUSD", "2374.50", "2375.00")
    await api.desk.heartbeat.beat()


async def test_a_breach_empties_the_account_within_one_heartbeat_blocks_and_tells_trader_and_ops(
    desk: Api, emulator: BotApiEmulator
) -> None:
    await breach(desk, emulator)

    trading = desk.desk.trading
    assert await trading.broker.positions(LOSER_ACCOUNT) == []
    closed = await trading.trade_store.closed_positions(LOSER_ACCOUNT)
    assert len(closed) == 3 and {p.close_reason for p in closed} == {CloseReason.DRAWDOWN}
    assert await trading.broker.pending_order_ids(LOSER_ACCOUNT) == []
    assert len(await trading.broker.positions(OTHER_ACCOUNT)) == 1  # another account is not touched
    assert await desk.desk.drawdown.is_blocked(LOSER_ACCOUNT) and not await desk.desk.drawdown.is_blocked(OTHER_ACCOUNT)

    told = await said(emulator, LOSER, "Drawdown limit reached")
    assert "New orders are blocked" in told and "Cancelled 1 pending order." in told
    assert "Closed 3 position(s)" in told and "drawdown guard" in told
    alert = await said(emulator, ADMIN, "CRITICAL", "past the cap of 20.00 %")
    assert f"account {LOSER_ACCOUNT}" in alert and "cancelled 1 pending order, closed 3 positions, blocked new orders" in alert
    assert not any("Drawdown" in (m.text or "") for m in emulator.messages(OTHER))

    beat = await _beat_row(desk)
    assert beat["accounts"][LOSER_ACCOUNT]["blocked"] is True and beat["accounts"][LOSER_ACCOUNT]["open_positions"] == 0
    assert beat["open_positions"] == 1 and beat["errors"] == 0

    blocked = await approve(desk, emulator, "after-breach")
    assert "new orders are blocked on your account by the drawdown guard" in await said(emulator, LOSER, "No order for")
    await quote(desk, "XAUUSD", "2299.00", "2299.50")  # the cancelled limit's price: it does not fill
    assert await trading.broker.positions(LOSER_ACCOUNT) == []

    desk.clock.advance(62 * 60)  # past the approval window (and the minute's grace before settling): the blocked approval was the signal's only one
    await close_approval_windows(desk.desk.telegram.approvals, desk.desk.telegram.sender)
    status, _, listed = await desk.request("GET", f"/api/v1/signals/{blocked['id']}")
    assert status == 200 and listed["status"] == "cancelled"


async def test_drawdown_shows_each_account_and_an_admin_reset_allows_orders_again(desk: Api, emulator: BotApiEmulator) -> None:
    await breach(desk, emulator)
    await said(emulator, ADMIN, "CRITICAL")

    emulator.say(ADMIN, "/drawdown")
    table = await said(emulator, ADMIN, "Drawdown · cap 20.00 %")
    assert f"{LOSER_ACCOUNT} · equity 7,399.80 · peak 10,000.00 · drawdown 26.00 % · 🛑 BLOCKED" in table
    assert f"{OTHER_ACCOUNT} · equity" in table and "trading" in table

    emulator.say(ADMIN, f"/drawdown reset {LOSER}")
    reply = await said(emulator, ADMIN, "Drawdown guard reset")
    assert LOSER_ACCOUNT in reply and "7,399.80" in reply
    assert "New orders are allowed again" in await said(emulator, LOSER, "allowed again")
    assert not await desk.desk.drawdown.is_blocked(LOSER_ACCOUNT)

    await desk.desk.heartbeat.beat()  # measured from the reset equity now: no new breach
    assert not await desk.desk.drawdown.is_blocked(LOSER_ACCOUNT)
    await approve(desk, emulator, "after-reset")
    assert "XAUUSD BUY" in await said(emulator, LOSER, "Order placed for")


async def test_equity_back_within_the_cap_allows_orders_again(desk: Api, emulator: BotApiEmulator) -> None:
    await breach(desk, emulator)
    assert await desk.desk.drawdown.is_blocked(LOSER_ACCOUNT)

    await _deposit(desk, LOSER_ACCOUNT, D("700"))  # 8099.80: 19.00 % below the peak of 10000
    await desk.desk.heartbeat.beat()

    assert not await desk.desk.drawdown.is_blocked(LOSER_ACCOUNT)
    assert "New orders are allowed again" in await said(emulator, LOSER, "allowed again")
    assert "drawdown is back to 19.00 %" in await said(emulator, ADMIN, "INFO", "within the cap")


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/drawdown reset", "Usage: /drawdown"),
        ("/drawdown everything", "Usage: /drawdown"),
        ("/drawdown reset 111 222", "Usage: /drawdown"),
        ("/drawdown reset 555", "/drawdown reset: no account or trader '555'; accounts: tg-111, tg-222. Nothing was changed."),
        ("/drawdown reset <b>x</b>", "/drawdown reset: no account or trader '<b>x</b>'"),
    ],
)
async def test_bad_drawdown_arguments_get_a_clear_reply(desk: Api, emulator: BotApiEmulator, command: str, answer: str) -> None:
    emulator.say(ADMIN, command)
    assert answer in await said(emulator, ADMIN, answer)


async def test_drawdown_is_for_admins(desk: Api, emulator: BotApiEmulator) -> None:
    emulator.say(LOSER, "/drawdown reset 111")
    assert (await said(emulator, LOSER, "only")).startswith("This is for admins only")


async def _beat_row(api: Api) -> dict[str, Any]:
    runner = batch_runner_for(api.desk.engine)
    try:
        beat = await SqlHeartbeats(runner).latest("heartbeat")
    finally:
        await runner.close()
    assert beat is not None
    return beat.data


async def _deposit(api: Api, account_id: str, amount: Decimal) -> None:
    """Money paid into the account (the paper broker has no deposits; a live account does)."""
    table = TradeAccountRow.__table__
    async with api.desk.engine.begin() as conn:
        row = (await conn.execute(table.select().where(table.c.id == account_id))).one()
        await conn.execute(update(table).where(table.c.id == account_id).values(balance=row.balance + amount))
