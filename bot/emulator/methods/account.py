"""The bot's own profile and settings, callback answers and file lookups."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.emulator.errors import QUERY_TOO_OLD, bad_request
from bot.emulator.model import CallbackAnswer, JsonObject
from bot.emulator.params import Params
from bot.emulator.state import EmulatorState

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


async def get_me(state: EmulatorState, params: Params) -> JsonObject:
    return {
        **state.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def set_my_commands(state: EmulatorState, params: Params) -> bool:
    commands = params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not command.get("description"):
            raise bad_request("command description is empty")
    state.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(state: EmulatorState, params: Params) -> list[JsonObject]:
    return state.commands.get(_commands_key(params), [])


async def answer_callback_query(state: EmulatorState, params: Params) -> bool:
    pressed = state.callbacks.get(params.required_text("callback_query_id", QUERY_TOO_OLD))
    # Telegram accepts one answer per query; a second one is as invalid as an unknown id.
    if pressed is None or pressed.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    pressed.answer = CallbackAnswer(
        text=params.text("text"), show_alert=params.flag("show_alert"), url=params.text("url")
    )
    state.changes.notify()
    return True


async def get_file(state: EmulatorState, params: Params) -> JsonObject:
    return state.files.file(params.required_text("file_id", "invalid file_id")).to_api()


def _commands_key(params: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language), as Telegram keeps separate lists."""
    scope: Any = params.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.text("language_code") or ""


METHODS = {
    "getMe": get_me,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
}
