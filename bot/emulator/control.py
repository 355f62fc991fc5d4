"""Driving the emulated Telegram from tests and the demo: users type and press, we read back.

Nothing here sleeps: waits re-check their condition each time the emulator's state changes.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.emulator.files import StoredFile
from bot.emulator.formatting import utf16_length
from bot.emulator.limits import RateLimits, SendStats
from bot.emulator.model import CallbackAnswer, JsonObject, SentMessage, UserProfile
from bot.emulator.state import EmulatorState, Outage, PressedButton

DEFAULT_WAIT_SECONDS = 5.0


class ControlError(ValueError):
    """A control request that makes no sense (no such message, button or callback)."""


class EmulatorControl:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # What users do.

    def say(
        self, user_id: int, text: str, *, first_name: str | None = None, username: str | None = None
    ) -> JsonObject:
        """User ``user_id`` writes ``text`` in their private chat; returns the Message sent."""
        if not text:
            raise ControlError("text is empty")
        sender = self._user(user_id, first_name, username)
        chat = self.state.chat(user_id)
        message = chat.add(
            sender.to_api(), from_bot=False, text=text, entities=_command_entity(text)
        )
        self.state.updates.push("message", message.to_api())
        return message.to_api()

    def press(
        self,
        chat_id: int,
        message_id: int,
        *,
        data: str | None = None,
        button: str | None = None,
        user_id: int | None = None,
        require_button: bool = True,
    ) -> str:
        """Press a button (by callback ``data`` or by its label) and return the callback id.

        ``user_id`` defaults to the chat's user. ``require_button=False`` allows presses a real
        client could only make from a stale screen: data no longer (or never) on the message.
        """
        stored = self.state.chat(chat_id).messages.get(message_id)
        if stored is None or stored.deleted or not stored.from_bot:
            raise ControlError(f"no bot message {message_id} in chat {chat_id}")
        current = stored.snapshot()
        if button is not None and data is None:
            data = _button_data(current, button)
        elif data is not None and button is None:
            if require_button and data not in _all_callback_data(current):
                raise ControlError(f"message {message_id} has no button with data {data!r}")
        else:
            raise ControlError("give exactly one of data or button")
        callback_id = str(10**17 + len(self.state.callbacks) + 1)
        query = {
            "id": callback_id,
            "from": self.state.user(user_id if user_id is not None else chat_id).to_api(),
            "message": stored.to_api(),
            "chat_instance": str(-(10**12) - chat_id),
            "data": data,
        }
        self.state.callbacks[callback_id] = PressedButton(chat_id, message_id, data)
        self.state.updates.push("callback_query", query)
        return callback_id

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends and edits to their chat answer 403."""
        self.state.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.state.blocked.discard(user_id)

    # What Telegram does.

    def set_outage(self, mode: Outage) -> None:
        self.state.outage = Outage(mode)
        self.state.changes.notify()

    def set_limits(self, limits: RateLimits) -> None:
        self.state.limiter.configure(limits)

    @property
    def limits(self) -> RateLimits:
        return self.state.limiter.limits

    @property
    def stats(self) -> SendStats:
        """429s sent and every accepted send, for asserting the bot kept to the limits."""
        return self.state.limiter.stats

    # What the bot did.

    @property
    def uploads(self) -> int:
        """Photos the bot uploaded as bytes; sends that re-use a file_id do not count."""
        return self.state.files.uploads

    def file(self, file_id: str) -> StoredFile:
        """A file the bot uploaded (any file_id of a photo); BotApiError when there is none."""
        return self.state.files.file(file_id)

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, as they look now (deleted ones flagged)."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            return []
        return [m.snapshot() for m in chat.messages.values() if m.from_bot]

    def callback_answer(self, callback_id: str) -> CallbackAnswer | None:
        """The bot's answer to a press, or None while it has not answered."""
        return self._pressed(callback_id).answer

    # Waiting without sleeping.

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = DEFAULT_WAIT_SECONDS
    ) -> None:
        """Wait until ``predicate()`` holds. It is re-checked after every change of the
        emulator's state, so it should depend on that state (or on what the bot did before
        changing it, as a webhook receiver does before answering)."""
        if not await self.state.changes.wait_for(predicate, timeout):
            raise TimeoutError(f"condition not met within {timeout} s")

    async def wait_for_messages(
        self,
        chat_id: int,
        condition: Callable[[list[SentMessage]], bool] | int = 1,
        timeout: float = DEFAULT_WAIT_SECONDS,
    ) -> list[SentMessage]:
        """Wait until the bot's messages in the chat satisfy ``condition`` (or number at least
        that many) and return them."""
        check = condition if callable(condition) else _at_least(condition)
        if not await self.state.changes.wait_for(lambda: check(self.messages(chat_id)), timeout):
            texts = [m.text for m in self.messages(chat_id)]
            raise TimeoutError(f"chat {chat_id} after {timeout} s: {texts!r}")
        return self.messages(chat_id)

    async def wait_for_answer(
        self, callback_id: str, timeout: float = DEFAULT_WAIT_SECONDS
    ) -> CallbackAnswer:
        pressed = self._pressed(callback_id)
        await self.state.changes.wait_for(lambda: pressed.answer is not None, timeout)
        if pressed.answer is None:
            raise TimeoutError(f"callback {callback_id} not answered within {timeout} s")
        return pressed.answer

    def _pressed(self, callback_id: str) -> PressedButton:
        pressed = self.state.callbacks.get(callback_id)
        if pressed is None:
            raise ControlError(f"no callback query {callback_id}")
        return pressed

    def _user(self, user_id: int, first_name: str | None, username: str | None) -> UserProfile:
        if user_id <= 0:
            raise ControlError("user ids are positive")
        known = self.state.user(user_id)
        if first_name or username:
            known = UserProfile(user_id, first_name or known.first_name, username or known.username)
            self.state.users[user_id] = known
        return known


def _command_entity(text: str) -> list[JsonObject]:
    """Telegram marks a leading /command (with an optional @botname) as a bot_command entity."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]


def _at_least(count: int) -> Callable[[list[SentMessage]], bool]:
    return lambda messages: len(messages) >= count


def _all_callback_data(message: SentMessage) -> set[str | None]:
    return {b.callback_data for row in message.buttons for b in row}


def _button_data(message: SentMessage, label: str) -> str:
    try:
        data = message.button(label).callback_data
    except LookupError as error:
        raise ControlError(str(error)) from None
    if data is None:
        raise ControlError(f"button {label!r} has no callback data")
    return data
