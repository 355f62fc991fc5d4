"""Commands whose data arrive with execution: they say so honestly instead of showing invented numbers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.telegram.replies import Replies

NOT_YET = "/{command}: execution is not enabled on this desk yet, so there are no {what} to show."


async def trader_execution_commands(message: Message, command: CommandObject, replies: Replies) -> None:
    await replies.send(message.chat.id, NOT_YET.format(command=command.command, what="positions, orders or balances"))


async def admin_execution_commands(message: Message, command: CommandObject, replies: Replies) -> None:
    await replies.send(message.chat.id, NOT_YET.format(command=command.command, what="accounts or positions"))


def build_router() -> Router:
    router = Router(name="execution_pending")
    router.message.register(trader_execution_commands, Command("positions", "balance", "history", "equity", "stats", "close"), flags={"role": "trader"})
    router.message.register(admin_execution_commands, Command("drawdown", "closeall"), flags={"role": "admin"})
    return router
