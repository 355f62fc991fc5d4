"""Approve / Reject presses: parse the callback, ask the approval service, answer the press."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.jobs.execution import ExecutionDriver
from bot.telegram.keyboards import DecisionCallback
from bot.telegram.sender import OutboxSender
from core.approvals import ApprovalService, Decision
from core.errors import AlreadyDecided, DecisionClosed, NotAuthorized, SignalNotFound

_DONE = {Decision.APPROVE: "Approved.", Decision.REJECT: "Rejected."}


async def decide(
    callback: CallbackQuery, callback_data: DecisionCallback, approvals: ApprovalService, sender: OutboxSender,
    execution: ExecutionDriver,
) -> None:
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    try:
        await approvals.decide(callback_data.signal_id, callback.from_user.id, chat_id, callback_data.action)
    except NotAuthorized:
        await callback.answer("Not authorized: only traders can decide on signals.", show_alert=True)
    except AlreadyDecided as exc:
        await callback.answer(f"Already decided: {exc.decision}.")
    except DecisionClosed:
        await callback.answer("This signal can no longer be decided (expired or closed).", show_alert=True)
    except SignalNotFound:
        await callback.answer("Unknown signal.", show_alert=True)
    else:
        if callback_data.action is Decision.APPROVE:
            execution.trigger()  # the order is placed now, not at the next periodic run
        await callback.answer(_DONE[callback_data.action])
        sender.wake()  # the card update was queued with the decision


def build_router() -> Router:
    router = Router(name="decisions")
    router.callback_query.register(decide, DecisionCallback.filter())
    return router
