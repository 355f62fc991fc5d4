"""Role checks: a handler declares the role it needs with `flags={"role": ...}`; this enforces it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.telegram.replies import Replies
from core.roles import Role, Roles

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RoleMiddleware(BaseMiddleware):
    def __init__(self, roles: Roles) -> None:
        self._roles = roles

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        user_roles = self._roles.roles_of(user.id) if user else frozenset({Role.STRANGER})
        data["user_roles"] = user_roles
        required = get_flag(data, "role")
        if required is None or Role(required) in user_roles:
            return await handler(event, data)
        log.warning("event=command_refused user_id=%s needs=%s has=%s", user.id if user else None, required, ",".join(sorted(user_roles)))
        refusal = f"This is for {required}s only. Send /start to see your user id and role."
        if isinstance(event, Message):
            replies: Replies = data["replies"]
            await replies.send(event.chat.id, refusal)
        elif isinstance(event, CallbackQuery):
            await event.answer(refusal, show_alert=True)
        return None
