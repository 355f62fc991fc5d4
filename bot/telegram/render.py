"""Pure rendering of what the bot shows: text in, text (HTML) out. No sending here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from aiogram.types import InlineKeyboardMarkup

from bot.telegram.keyboards import decision_keyboard
from core.instruments import InstrumentTable
from core.order_rules import reward_risk
from core.signals import Side, Signal, SignalStatus


@dataclass(frozen=True)
class CardView:
    signal: Signal
    decision: str | None  # this trader's decision
    window_closed: bool
    buttons: bool  # False for viewers


@dataclass(frozen=True)
class Rendered:
    text: str
    keyboard: InlineKeyboardMarkup | None


def render_signal_card(view: CardView, instruments: InstrumentTable, ttl: timedelta) -> Rendered:
    s = view.signal
    decimals = instruments.spec(s.instrument).decimals

    def price(value: Decimal) -> str:
        return f"{value:.{decimals}f}"

    def distance(value: Decimal) -> str:
        return f"{value - s.price:+.{decimals}f}"

    lines = [
        f"<b>{escape(s.instrument)} · {s.side.value.upper()}</b>",
        f"Entry   <code>{price(s.price)}</code>",
        f"Stop    <code>{price(s.stop_loss)}</code>  ({distance(s.stop_loss)})",
        f"Target  <code>{price(s.take_profit)}</code>  ({distance(s.take_profit)})",
        f"R:R     <code>{reward_risk(s.side, s.price, s.stop_loss, s.take_profit):.2f}</code>",
        f"{escape(s.producer_id)} · {_utc(s.time)} · #{s.short_id}",
    ]
    status_line, open_for_decision = _status(view, ttl)
    lines += ["", status_line]
    keyboard = decision_keyboard(s.id) if view.buttons and open_for_decision else None
    return Rendered("\n".join(lines), keyboard)


def _status(view: CardView, ttl: timedelta) -> tuple[str, bool]:
    if view.decision == "approve":
        return "<b>Approved</b> by you.", False
    if view.decision == "reject":
        return "<b>Rejected</b> by you.", False
    status = view.signal.status
    if status is SignalStatus.EXPIRED or view.window_closed:
        return f"<i>Expired: no decision within {int(ttl.total_seconds() // 60)} min.</i>", False
    if status not in (SignalStatus.NEW, SignalStatus.APPROVED):
        return f"Status: {status.value}.", False
    if not view.buttons:
        return f"Status: {status.value}.", False
    return "Approve or reject this signal.", True


def render_signal_line(s: Signal) -> str:
    arrow = "▲" if s.side is Side.BUY else "▼"
    return f"#{s.short_id} {arrow} {escape(s.instrument)} {s.price.normalize():f} · {s.status.value} · {_utc(s.created_at)}"


def _utc(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M UTC")

