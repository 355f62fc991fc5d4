"""Everything the emulated Telegram knows: the bot, chats and messages, updates, files, modes.

State changes happen in plain methods without awaits, so each is atomic on the event loop;
every change fires ``changes`` so long polls, the webhook pusher and test waiters re-check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.emulator.changes import ChangeSignal
from bot.emulator.errors import BOT_BLOCKED, CHAT_NOT_FOUND, bad_request, forbidden
from bot.emulator.files import FileStore
from bot.emulator.limits import RateLimits, SendLimiter
from bot.emulator.model import BotIdentity, CallbackAnswer, JsonObject, StoredMessage, UserProfile
from bot.emulator.updates import UpdateQueue

DEFAULT_TOKEN = "123456789:EMULATOR-token_for-tests-0123456789ab"


class Outage(StrEnum):
    NONE = "none"
    UNAVAILABLE = "unavailable"  # every Bot API call answers 503
    DROP = "drop"  # every Bot API call loses its connection without a response


@dataclass
class Chat:
    info: JsonObject
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0

    @property
    def id(self) -> int:
        return int(self.info["id"])

    def add(self, sender: JsonObject, *, from_bot: bool, **content: Any) -> StoredMessage:
        """Store a message; ids grow per chat and are shared by the bot's and the user's."""
        self.last_message_id += 1
        message = StoredMessage(
            message_id=self.last_message_id,
            chat=self.info,
            sender=sender,
            from_bot=from_bot,
            **content,
        )
        self.messages[message.message_id] = message
        return message


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None

    def record_error(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message


@dataclass
class PressedButton:
    """A callback query the emulator sent to the bot, and the bot's answer once it comes."""

    chat_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


class EmulatorState:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "signaldesk_test_bot",
        bot_name: str = "SignalDesk",
        limits: RateLimits | None = None,
        webhook_retry_seconds: float = 0.05,
    ) -> None:
        self.bot = BotIdentity(token=token, username=bot_username, first_name=bot_name)
        self.changes = ChangeSignal()
        self.updates = UpdateQueue(self.changes)
        self.files = FileStore()
        self.limiter = SendLimiter(limits or RateLimits())
        self.users: dict[int, UserProfile] = {}
        self.chats: dict[int, Chat] = {}
        self.callbacks: dict[str, PressedButton] = {}
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[JsonObject]] = {}
        self.outage = Outage.NONE
        self.webhook: WebhookConfig | None = None
        self.webhook_retry_seconds = webhook_retry_seconds
        # Telegram ends an older long poll when a newer one arrives (409); this tells them apart.
        self.poll_generation = 0
        self.closing = False

    def user(self, user_id: int) -> UserProfile:
        if user_id not in self.users:
            self.users[user_id] = UserProfile(id=user_id, first_name=f"User {user_id}")
        return self.users[user_id]

    def chat(self, chat_id: int | None) -> Chat:
        """The private chat with user ``chat_id``; groups are not emulated."""
        if chat_id is None or chat_id <= 0:
            raise bad_request(CHAT_NOT_FOUND)
        if chat_id not in self.chats:
            self.chats[chat_id] = Chat(info=self.user(chat_id).private_chat())
        return self.chats[chat_id]

    def admit_send(self, chat_id: int, method: str) -> None:
        """Apply the checks Telegram makes before delivering: blocked user (403), flood (429)."""
        if chat_id in self.blocked:
            raise forbidden(BOT_BLOCKED)
        self.limiter.admit(chat_id, method)

    def close(self) -> None:
        """Release long polls and the webhook pusher so the server can stop at once."""
        self.closing = True
        self.changes.notify()

