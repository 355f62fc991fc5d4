"""/drawdown for admins: every account against the drawdown cap, and `/drawdown reset <id>` to allow a
blocked account's orders again."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.telegram.render_drawdown import DRAWDOWN_USAGE, render_drawdown_status, render_reset
from bot.telegram.replies import Replies
from core.drawdown import DrawdownGuard, ResetRefused, UnknownAccount
from core.errors import BrokerError


async def drawdown(message: Message, command: CommandObject, drawdown_guard: DrawdownGuard, replies: Replies) -> None:
    args = (command.args or "").split()
    if not args:
        await replies.send(message.chat.id, render_drawdown_status(await drawdown_guard.meter.status(), drawdown_guard.cap))
        return
    if len(args) != 2 or args[0] != "reset":
        await replies.send(message.chat.id, DRAWDOWN_USAGE)
        return
    try:
        risk = await drawdown_guard.reset(drawdown_guard.meter.account_named(args[1]))
    except (UnknownAccount, ResetRefused) as exc:
        await replies.send(message.chat.id, f"/drawdown reset: {escape(str(exc))}. Nothing was changed.")
        return
    except BrokerError as exc:
        await replies.send(message.chat.id, f"/drawdown reset: the broker did not answer ({escape(str(exc))}). Nothing was changed; try again shortly.")
        return
    await replies.send(message.chat.id, render_reset(risk))


def build_router() -> Router:
    router = Router(name="drawdown")
    router.message.register(drawdown, Command("drawdown"), flags={"role": "admin"})
    return router
