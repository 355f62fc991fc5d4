"""Bot API methods by name; Telegram matches method names case-insensitively."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.errors import BotApiError
from bot.emulator.methods import account, messages, updates
from bot.emulator.params import Params
from bot.emulator.state import EmulatorState

Method = Callable[[EmulatorState, Params], Awaitable[Any]]

_METHODS: dict[str, Method] = {
    name.lower(): method
    for module in (account, messages, updates)
    for name, method in module.METHODS.items()
}


def find_method(name: str) -> Method:
    method = _METHODS.get(name.lower())
    if method is None:
        raise BotApiError(404, "Not Found")
    return method
