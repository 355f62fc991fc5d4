from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.status import StatusReporter, render_status
from bot.telegram.replies import Replies



async def status(message: Message, status_reporter: StatusReporter, replies: Replies) -> None:
    await replies.send(message.chat.id, render_status(await status_reporter.report()))


def build_router() -> Router:
    router = Router(name="admin")
    router.message.register(status, Command("status"), flags={"role": "admin"})
    return router
