"""Pure rendering of the trading side: command replies and what a trader is told about their orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from core.account_view import BalanceView
from core.drawdown import percent
from core.notify import DrawdownNote, ExecutionNote, ExecutionNoteKind
from core.orders import Order, OrderKind, OrderStatus
from core.position_desk import CloseAllReport, CloseOutcome, CloseResult, short_position_id
from core.signals import Side
from core.stats import TradingStats
from core.trades import CloseReason, Position, TradeEvent, TradeEventKind
from core.wording import counted

_ARROW = {Side.BUY: "▲", Side.SELL: "▼"}
_CLOSE_ICON = {CloseReason.TAKE_PROFIT: "🎯", CloseReason.STOP_LOSS: "🛑"}
_REASON = {
    CloseReason.STOP_LOSS: "stop loss",
    CloseReason.TAKE_PROFIT: "take profit",
    CloseReason.MANUAL: "manual close",
    CloseReason.DRAWDOWN: "drawdown guard",
}


def price(value: Decimal) -> str:
    return f"{value.normalize():f}"


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def signed(value: Decimal) -> str:
    return f"{value:+,.2f}"


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M UTC")


def _headline(position: Position) -> str:
    """`#1a2b3c4d ▲ XAUUSD BUY 0.1`"""
    side = position.side
    return f"#{short_position_id(position.id)} {_ARROW[side]} {escape(position.instrument)} {side.value.upper()} {price(position.volume)}"


def _levels(p: Position) -> str:
    return f"SL {price(p.stop_loss)} · TP {price(p.take_profit)}"


def _closed(p: Position) -> str:
    """`#1a2b3c4d ▲ XAUUSD BUY 0.1 at 2390 · stop loss · PnL <b>-10.50</b>`"""
    assert p.close_price is not None and p.pnl is not None
    reason = _REASON[p.close_reason] if p.close_reason else "closed"
    return f"{_headline(p)} at {price(p.close_price)} · {reason} · PnL <b>{signed(p.pnl)}</b>"


# --- command replies ---


def render_positions(positions: Sequence[Position]) -> str:
    if not positions:
        return "No open positions."
    lines = [f"<b>Open positions</b> ({len(positions)})"]
    for p in positions:
        lines.append(
            f"{_headline(p)} @ {price(p.open_price)} · {_levels(p)} · {_when(p.opened_at)}"
        )
    lines.append("Close one with /close &lt;id&gt;, e.g. /close " + short_position_id(positions[0].id))
    return "\n".join(lines)


def render_balance(view: BalanceView) -> str:
    lines = [f"<b>Account</b> {escape(view.account_id)}"]
    if view.balance is not None:
        lines.append(f"Balance  <code>{money(view.balance)}</code>")
    lines.append(f"Equity   <code>{money(view.equity)}</code>")
    if view.open_pnl is not None:
        lines.append(f"Open PnL <code>{signed(view.open_pnl)}</code>")
    lines.append(f"Open positions: {view.open_positions}")
    return "\n".join(lines)


def render_history(closed: Sequence[Position]) -> str:
    if not closed:
        return "No closed trades yet."
    lines = [f"<b>Last {len(closed)} closed trade(s)</b>, newest first"]
    for p in closed:
        assert p.closed_at is not None
        lines.append(f"{_closed(p)} · opened at {price(p.open_price)} · {_when(p.closed_at)}")
    return "\n".join(lines)


def render_stats(stats: TradingStats) -> str:
    if not stats.trades:
        return f"<b>Statistics</b>\nNo closed trades yet.\nMax drawdown {percent(stats.max_drawdown)}"
    assert stats.win_rate is not None and stats.expectancy is not None
    factor = (
        f"{stats.profit_factor:.2f}" if stats.profit_factor is not None else "n/a (no losing trades to divide by)"
    )
    breakeven = stats.trades - stats.wins - stats.losses
    return "\n".join([
        "<b>Statistics</b>",
        f"Trades {stats.trades}: {stats.wins} won, {stats.losses} lost" + (f", {breakeven} break-even" if breakeven else ""),
        f"Win rate {percent(stats.win_rate)}",
        f"Profit factor {factor}",
        f"Expectancy {signed(stats.expectancy)} per trade",
        f"Net PnL {signed(stats.net_pnl)} (won {money(stats.gross_profit)}, lost {money(stats.gross_loss)})",
        f"Max drawdown {percent(stats.max_drawdown)}",
    ])


def render_close_result(result: CloseResult) -> str:
    asked = f"#{escape(result.digits)}"
    p = result.position
    match result.outcome:
        case CloseOutcome.CLOSED:
            assert p is not None
            return f"Closed {_closed(p)}."
        case CloseOutcome.ALREADY_CLOSED:
            assert p is not None
            return f"Already closed: {_closed(p)}." if p.pnl is not None else f"Position {_headline(p)} is already closed."
        case CloseOutcome.NOT_YOURS:
            return f"Position {asked} is not yours: you can close only your own positions."
        case CloseOutcome.AMBIGUOUS:
            return f"Several of your positions end with {asked}: send more of the id (see /positions)."
        case CloseOutcome.NO_QUOTE:
            assert p is not None
            return f"No quote for {escape(p.instrument)} yet, so there is no price to close {_headline(p)} at. Try again once prices arrive."
        case CloseOutcome.FAILED:
            assert p is not None
            return f"The broker did not close {_headline(p)}: {escape(result.detail)}. It is still open."
        case CloseOutcome.NOT_FOUND:
            return f"You have no position {asked}. /positions lists your open ones."


CLOSE_USAGE = "Usage: /close &lt;id&gt;, with the id shown by /positions, e.g. /close 1a2b3c4d"
HISTORY_USAGE = "Usage: /history [n], the number of trades to show (1–50), e.g. /history 20"


def render_close_all_prompt(open_positions: Sequence[Position], window_minutes: int) -> str:
    if not open_positions:
        return "No account has an open position: there is nothing to close."
    accounts = len({p.account_id for p in open_positions})
    return (
        f"Close all <b>{len(open_positions)}</b> open position(s) on {accounts} account(s) at the current price? "
        f"The owners are told. This prompt is valid for {window_minutes} min."
    )


def render_close_all_report(report: CloseAllReport) -> str:
    lines = [f"Closed {len(report.closed)} position(s)." if report.closed else "No position was closed."]
    if report.failed:
        lines.append(f"<b>{len(report.failed)} could not be closed:</b>")
        for failure in report.failed:
            what = _headline(failure.position) if failure.position else "all positions"
            lines.append(f"{what} on {escape(failure.account_id)}: {escape(failure.reason)}")
    return "\n".join(lines)


# --- notifications ---


def render_execution_note(note: ExecutionNote) -> str:
    s = note.signal
    about = f"signal #{s.short_id} {_ARROW[s.side]} {escape(s.instrument)} {s.side.value.upper()}"
    detail = escape(note.detail)
    match note.kind:
        case ExecutionNoteKind.PLACED:
            assert note.order is not None
            return f"📥 Order placed for {about}: {_order_terms(note.order)}."
        # WAITING and BLOCKED: the detail only restates what the sentence says; twice reads as a glitch.
        case ExecutionNoteKind.WAITING:
            return f"⏳ No price for {escape(s.instrument)} yet: your order for {about} waits for the first quote."
        case ExecutionNoteKind.REFUSED:
            return f"⛔ No order for {about}: {detail}"
        case ExecutionNoteKind.BLOCKED:
            return f"🚫 No order for {about}: new orders are blocked on your account by the drawdown guard."
        case ExecutionNoteKind.FAILED:
            return f"❗ Placing the order for {about} failed: {detail}"


def _order_terms(order: Order) -> str:
    r = order.request
    filled = order.status is OrderStatus.OPEN
    if order.kind is OrderKind.MARKET:
        entry = "market order, filled" if filled else "market order"
    else:
        entry = f"{order.kind.value} at {price(r.entry)}" + (", filled" if filled else f", valid until {_when(r.expires_at)}")
    return f"{price(r.volume)} lots, {entry}, SL {price(r.stop_loss)}, TP {price(r.take_profit)}"


def render_trade_event(event: TradeEvent) -> str:
    p = event.position
    match event.kind:
        case TradeEventKind.FILLED:
            assert p is not None
            return f"✅ Filled: {_headline(p)} at {price(p.open_price)} · {_levels(p)}"
        case TradeEventKind.CLOSED:
            assert p is not None
            return f"{_CLOSE_ICON.get(p.close_reason, '⏹')} Closed: {_closed(p)}"
        case TradeEventKind.CANCELLED:
            r = event.order.request
            why = "expired unfilled" if event.order.reason == "expired" else f"cancelled ({escape(event.order.reason or 'no reason given')})"
            return f"⌛ Order {_ARROW[r.side]} {escape(r.instrument)} {r.side.value.upper()} {price(r.volume)} at {price(r.entry)} {why}."


def render_drawdown_note(note: DrawdownNote) -> str:
    figures = f"drawdown {percent(note.drawdown)}, cap {percent(note.cap)}"
    if not note.breached:
        return f"🟢 New orders are allowed again on your account ({figures})."
    lines = [f"🛑 <b>Drawdown limit reached</b> on your account ({figures}). New orders are blocked."]
    if note.cancelled:
        lines.append(f"Cancelled {counted(note.cancelled, 'pending order')}.")
    if note.closed:
        lines.append(f"Closed {len(note.closed)} position(s):")
        lines += [_closed(p) for p in note.closed]
    else:
        lines.append("No position was open.")
    return "\n".join(lines)
