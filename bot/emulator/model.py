"""The emulator's records of bots, chats and messages, and read-only snapshots for tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.errors import bad_request

JsonObject = dict[str, Any]

# Every inline button needs exactly one of these besides its text.
_BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}


@dataclass(frozen=True)
class BotIdentity:
    """The bot behind the token; its numeric id is the token's prefix, as in Telegram."""

    token: str
    username: str
    first_name: str

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])

    def to_api(self) -> JsonObject:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass(frozen=True)
class UserProfile:
    id: int
    first_name: str
    username: str | None = None

    def to_api(self) -> JsonObject:
        user: JsonObject = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        return user

    def private_chat(self) -> JsonObject:
        chat = {**self.to_api(), "type": "private"}
        del chat["is_bot"]
        return chat


@dataclass
class StoredMessage:
    """A message in a chat, from the bot or a user, edited in place as the bot edits it."""

    message_id: int
    chat: JsonObject
    sender: JsonObject
    from_bot: bool
    date: int = field(default_factory=lambda: int(time.time()))
    text: str | None = None
    entities: list[JsonObject] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JsonObject] = field(default_factory=list)
    photo: list[JsonObject] | None = None
    reply_markup: JsonObject | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False

    def to_api(self) -> JsonObject:
        message: JsonObject = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        optional = {
            "edit_date": self.edit_date,
            "text": self.text,
            "entities": self.entities,
            "photo": self.photo,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self.reply_markup,
        }
        message.update({key: value for key, value in optional.items() if value})
        return message

    def mark_edited(self) -> None:
        self.edits += 1
        self.edit_date = int(time.time())

    def snapshot(self) -> SentMessage:
        return SentMessage(
            message_id=self.message_id,
            chat_id=self.chat["id"],
            text=self.text if self.photo is None else self.caption,
            entities=tuple(self.entities if self.photo is None else self.caption_entities),
            has_photo=self.photo is not None,
            photo_file_id=self.photo[-1]["file_id"] if self.photo else None,
            buttons=inline_buttons(self.reply_markup),
            reply_markup=self.reply_markup,
            edits=self.edits,
            deleted=self.deleted,
        )


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """What a user sees of one bot message now: ``text`` is the caption for photos."""

    message_id: int
    chat_id: int
    text: str | None
    entities: tuple[JsonObject, ...]
    has_photo: bool
    photo_file_id: str | None
    buttons: tuple[tuple[Button, ...], ...]
    reply_markup: JsonObject | None
    edits: int
    deleted: bool

    def button(self, text: str) -> Button:
        """The inline button labelled ``text`` (tests press buttons by label)."""
        for row in self.buttons:
            for button in row:
                if button.text == text:
                    return button
        raise LookupError(f"no button {text!r} on message {self.message_id}")


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for one button press."""

    text: str | None
    show_alert: bool
    url: str | None


def inline_buttons(markup: JsonObject | None) -> tuple[tuple[Button, ...], ...]:
    rows = (markup or {}).get("inline_keyboard") or []
    return tuple(
        tuple(Button(b["text"], b.get("callback_data"), b.get("url")) for b in row) for row in rows
    )


def validate_inline_keyboard(markup: JsonObject | None) -> None:
    """Refuse what Telegram refuses, so a too-long CallbackData fails in tests, not in prod."""
    rows = (markup or {}).get("inline_keyboard", [])
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard")
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text is not specified")
        if not _BUTTON_ACTIONS & button.keys():
            raise bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
            raise bad_request("BUTTON_DATA_INVALID")
