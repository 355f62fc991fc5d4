"""Commands whose feature is still on its way: they say so honestly instead of showing invented numbers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.replies import Replies


async def drawdown_pending(message: Message, replies: Replies) -> None:
    await replies.send(message.chat.id, "/drawdown: the drawdown view is not available on this desk yet.")


def build_router() -> Router:
    router = Router(name="execution_pending")
    router.message.register(drawdown_pending, Command("drawdown"), flags={"role": "admin"})
    return router
