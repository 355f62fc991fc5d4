from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.render import render_signal_line
from bot.telegram.replies import Replies
from storage.desk_queries import SqlDeskQueries

LATEST = 10


async def latest_signals(message: Message, queries: SqlDeskQueries, replies: Replies) -> None:
    signals = await queries.recent_signals(LATEST)
    text = "\n".join(render_signal_line(s) for s in signals) if signals else "No signals yet."
    await replies.send(message.chat.id, f"<b>Latest signals</b>\n{text}" if signals else text)


def build_router() -> Router:
    router = Router(name="signals")
    router.message.register(latest_signals, Command("signals"), flags={"role": "trader"})
    return router
