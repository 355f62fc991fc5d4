"""Whatever no feature router claimed: a short, useful answer instead of silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.telegram.replies import Replies



async def unknown_command(message: Message, replies: Replies) -> None:
    command = (message.text or "").split()[0][:40]
    await replies.send(message.chat.id, f"Unknown command {command}. Send /help for the list.")


async def anything_else(message: Message, replies: Replies) -> None:
    await replies.send(message.chat.id, "I only understand commands. Send /help for the list.")


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer("This button is no longer valid.", show_alert=True)


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(anything_else)
    router.callback_query.register(stale_button)
    return router
