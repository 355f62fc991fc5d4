"""/equity: the trader's equity curve with its drawdown, as a photo (text when there is nothing to chart)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.account_charts import EQUITY
from bot.telegram.replies import Replies
from core.accounts import AccountMap


async def equity(message: Message, accounts: AccountMap, replies: Replies) -> None:
    assert message.from_user is not None  # the role check let a known user through
    await replies.send_chart(message.chat.id, EQUITY, accounts.account_of(message.from_user.id))


def build_router() -> Router:
    router = Router(name="charts")
    router.message.register(equity, Command("equity"), flags={"role": "trader"})
    return router
