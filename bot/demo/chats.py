"""The scripted people's Telegram: they type and press through the Bot API emulator, and every message the
bot shows them (new or edited) goes to the transcript once, in the order of their chat."""

from __future__ import annotations

from collections.abc import Mapping

from bot.demo.console import Transcript
from bot.demo.photos import PhotoShelf
from bot.emulator import BotApiEmulator, SentMessage

WAIT_SECONDS = 20.0  # a step that takes longer is broken, not slow


class Chats:
    def __init__(self, telegram: BotApiEmulator, transcript: Transcript, photos: PhotoShelf, names: Mapping[int, str]) -> None:
        self._telegram = telegram
        self._names = names
        self._transcript = transcript
        self._photos = photos
        self._seen: dict[int, dict[int, SentMessage]] = {}

    async def say(self, user: int, text: str, *, replies: int = 1) -> None:
        """`user` writes `text`; the bot's `replies` answers are shown."""
        self._transcript.says(user, text)
        self._telegram.say(user, text, first_name=self._names.get(user))
        await self.expect(user, replies)

    async def press(self, user: int, message: SentMessage, button: str, *, replies: int = 0) -> None:
        """`user` presses `button` on `message`: the pop-up, the message's edit and `replies` new messages."""
        edits = self._current(message).edits
        self._transcript.presses(user, button, message)
        callback = self._telegram.press(user, message.message_id, button=button)
        answer = await self._telegram.wait_for_answer(callback, WAIT_SECONDS)
        self._transcript.popup(user, answer.text)
        await self._telegram.wait_until(lambda: self._current(message).edits > edits, WAIT_SECONDS)
        await self.expect(user, replies)

    async def expect(self, user: int, count: int = 1) -> None:
        """Wait until `count` messages the transcript has not shown are in `user`'s chat, then show what changed."""
        if count:
            await self._telegram.wait_for_messages(user, lambda ms: len(self._unseen(user, ms)) >= count, WAIT_SECONDS)
        await self.show(user)

    async def show(self, user: int) -> None:
        """Show the chat's new messages and edits since last time (also what arrived without being waited for)."""
        seen = self._seen.setdefault(user, {})
        for message in self._telegram.messages(user):
            before = seen.get(message.message_id)
            if before is None:
                self._transcript.message(message, await self._photos.keep(message))
            elif message.edits > before.edits:
                self._transcript.edited(before, message)
            seen[message.message_id] = message

    def find(self, user: int, text: str) -> SentMessage:
        """The latest message in `user`'s chat that contains `text` (e.g. a card's `#1a2b3c4d`)."""
        return next(m for m in reversed(self._telegram.messages(user)) if text in (m.text or ""))

    def _unseen(self, user: int, messages: list[SentMessage]) -> list[SentMessage]:
        seen = self._seen.get(user, {})
        return [m for m in messages if m.message_id not in seen]

    def _current(self, message: SentMessage) -> SentMessage:
        return next(m for m in self._telegram.messages(message.chat_id) if m.message_id == message.message_id)
