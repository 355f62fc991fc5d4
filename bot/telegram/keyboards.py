"""Inline keyboards. Callback data goes through aiogram CallbackData factories, never hand-split strings."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.approvals import Decision


class DecisionCallback(CallbackData, prefix="sd"):
    action: Decision
    signal_id: str


def decision_keyboard(signal_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="Approve", callback_data=DecisionCallback(action=Decision.APPROVE, signal_id=signal_id))
    builder.button(text="Reject", callback_data=DecisionCallback(action=Decision.REJECT, signal_id=signal_id))
    return builder.as_markup()
