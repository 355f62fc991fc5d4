"""A Telegram Bot API emulator for tests and the demo.

The bot reaches it exactly like a self-hosted Bot API server::

    async with BotApiEmulator() as telegram:
        session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
        bot = Bot(telegram.token, session=session)
"""

from bot.emulator.control import ControlError, EmulatorControl
from bot.emulator.limits import RateLimits, SendRecord, SendStats
from bot.emulator.model import Button, CallbackAnswer, SentMessage
from bot.emulator.server import BotApiEmulator, create_emulator_app
from bot.emulator.state import DEFAULT_TOKEN, EmulatorState, Outage

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "ControlError",
    "EmulatorControl",
    "EmulatorState",
    "Outage",
    "RateLimits",
    "SendRecord",
    "SendStats",
    "SentMessage",
    "create_emulator_app",
]
