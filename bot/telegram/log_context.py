"""Log ids for Telegram updates: each update is a request (`tg-<update id>`), and a decision press also
names the signal it decides, so every line of its path carries both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.telegram.keyboards import DecisionCallback
from core.log_context import request_scope, signal_scope

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateLogContext(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        with request_scope(f"tg-{event.update_id}"), signal_scope(_decided_signal(event)):
            return await handler(event, data)


def _decided_signal(update: Update) -> str | None:
    query = update.callback_query
    if query is None or not query.data or not query.data.startswith(f"{DecisionCallback.__prefix__}:"):
        return None
    try:
        return DecisionCallback.unpack(query.data).signal_id
    except (TypeError, ValueError):
        return None  # a forged or stale button: the handlers say so, without a signal id
