from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.telegram.commands import help_text
from bot.telegram.replies import Replies
from core.roles import Role
from storage.outbox_store import SqlOutbox



async def start(message: Message, user_roles: frozenset[Role], replies: Replies, outbox: SqlOutbox) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    await outbox.set_chat_flags(message.chat.id, blocked=False)  # talking to us again after a block
    if user_roles == {Role.STRANGER}:
        text = (
            f"Welcome to SignalDesk. Your Telegram user id is <code>{user_id}</code>.\n"
            "You are not on this desk yet: ask an admin to add this id to <code>telegram.traders</code> "
            "(or <code>telegram.viewers</code>) in the desk's configuration."
        )
    else:
        role_names = ", ".join(sorted(role.value for role in user_roles))
        text = f"SignalDesk. Your Telegram user id is <code>{user_id}</code>; your role: {role_names}. Send /help for the commands."
    await replies.send(message.chat.id, text)


async def help_command(message: Message, user_roles: frozenset[Role], replies: Replies) -> None:
    await replies.send(message.chat.id, help_text(user_roles))


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    return router
