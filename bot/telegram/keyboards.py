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


class CloseAllCallback(CallbackData, prefix="ca"):
    confirm: bool
    issued: int  # when the prompt was shown (Unix seconds): a stale prompt must not close later positions


def close_all_keyboard(issued: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="Close all positions", callback_data=CloseAllCallback(confirm=True, issued=issued))
    builder.button(text="Cancel", callback_data=CloseAllCallback(confirm=False, issued=issued))
    return builder.as_markup()
