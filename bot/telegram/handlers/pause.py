from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.replies import Replies
from storage.outbox_store import SqlOutbox



async def pause(message: Message, outbox: SqlOutbox, replies: Replies) -> None:
    await outbox.set_chat_flags(message.chat.id, paused=True)
    await replies.send(message.chat.id, "Paused: you will not get new signal cards until you send /resume.")


async def resume(message: Message, outbox: SqlOutbox, replies: Replies) -> None:
    await outbox.set_chat_flags(message.chat.id, paused=False)
    await replies.send(message.chat.id, "Resumed: new signal cards will come to this chat.")


def build_router() -> Router:
    router = Router(name="pause")
    router.message.register(pause, Command("pause"), flags={"role": "trader"})
    router.message.register(resume, Command("resume"), flags={"role": "trader"})
    return router
