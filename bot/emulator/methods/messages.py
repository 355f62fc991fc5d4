"""Sending, editing and deleting messages."""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import (
    MESSAGE_CANT_BE_EDITED,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_DELETE_NOT_FOUND,
    MESSAGE_TO_EDIT_NOT_FOUND,
    bad_request,
)
from bot.emulator.files import image_size
from bot.emulator.formatting import format_text, utf16_length
from bot.emulator.model import JsonObject, StoredMessage, validate_inline_keyboard
from bot.emulator.params import Params, Upload
from bot.emulator.state import Chat, EmulatorState

_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_NO_MESSAGE_ID = "message identifier is not specified"


async def send_message(state: EmulatorState, params: Params) -> JsonObject:
    chat = _chat(state, params)
    text, entities = _message_text(params)
    markup = _reply_markup(params)
    state.admit_send(chat.id, "sendMessage")
    message = chat.add(
        state.bot.to_api(), from_bot=True, text=text, entities=entities, reply_markup=markup
    )
    state.changes.notify()
    return message.to_api()


async def send_photo(state: EmulatorState, params: Params) -> JsonObject:
    chat = _chat(state, params)
    caption, caption_entities = _caption(params)
    markup = _reply_markup(params)
    photo = params.input_file("photo", "there is no photo in the request")
    if isinstance(photo, Upload):
        image_size(photo.data)  # refuse what cannot be decoded before anything else
        state.admit_send(chat.id, "sendPhoto")
        sizes = state.files.add_photo(photo.data, photo.filename)  # a refused send stores no upload
    else:
        sizes = state.files.photo(photo)
        state.admit_send(chat.id, "sendPhoto")
    message = chat.add(
        state.bot.to_api(),
        from_bot=True,
        photo=sizes,
        caption=caption,
        caption_entities=caption_entities,
        reply_markup=markup,
    )
    state.changes.notify()
    return message.to_api()


async def edit_message_text(state: EmulatorState, params: Params) -> JsonObject:
    message = _editable(state, params)
    if message.photo is not None:
        raise bad_request("there is no text in the message to edit")
    text, entities = _message_text(params)
    return _apply_edit(state, params, message, "editMessageText", text=text, entities=entities)


async def edit_message_caption(state: EmulatorState, params: Params) -> JsonObject:
    message = _editable(state, params)
    if message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(params)
    return _apply_edit(
        state, params, message, "editMessageCaption", caption=caption, caption_entities=entities
    )


async def edit_message_reply_markup(state: EmulatorState, params: Params) -> JsonObject:
    return _apply_edit(state, params, _editable(state, params), "editMessageReplyMarkup")


async def delete_message(state: EmulatorState, params: Params) -> bool:
    message = _message(state, params, not_found=MESSAGE_TO_DELETE_NOT_FOUND)
    message.deleted = True
    state.changes.notify()
    return True


def _chat(state: EmulatorState, params: Params) -> Chat:
    return state.chat(params.required_integer("chat_id", "chat_id is empty"))


def _message(state: EmulatorState, params: Params, *, not_found: str) -> StoredMessage:
    chat = _chat(state, params)
    message = chat.messages.get(params.required_integer("message_id", _NO_MESSAGE_ID))
    if message is None or message.deleted:
        raise bad_request(not_found)
    return message


def _editable(state: EmulatorState, params: Params) -> StoredMessage:
    message = _message(state, params, not_found=MESSAGE_TO_EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request(MESSAGE_CANT_BE_EDITED)
    return message


def _apply_edit(
    state: EmulatorState, params: Params, message: StoredMessage, method: str, **changes: Any
) -> JsonObject:
    """Edit in place. Every edit sets the keyboard (none given removes it, as in Telegram);
    an edit that changes nothing is refused before it counts as a send."""
    changes["reply_markup"] = _reply_markup(params)
    if all(getattr(message, name) == value for name, value in changes.items()):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    state.admit_send(message.chat["id"], method)
    for name, value in changes.items():
        setattr(message, name, value)
    message.mark_edited()
    state.changes.notify()
    return message.to_api()


def _formatted(params: Params, name: str, entities_name: str) -> tuple[str, list[JsonObject]]:
    text = params.text(name) or ""
    parse_mode = params.text("parse_mode")
    if parse_mode:
        return format_text(text, parse_mode)
    return text, params.json(entities_name) or []


def _message_text(params: Params) -> tuple[str, list[JsonObject]]:
    text, entities = _formatted(params, "text", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_length(text) > _TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def _caption(params: Params) -> tuple[str | None, list[JsonObject]]:
    caption, entities = _formatted(params, "caption", "caption_entities")
    if utf16_length(caption) > _CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return caption or None, entities


def _reply_markup(params: Params) -> JsonObject | None:
    markup = params.json("reply_markup")
    if markup is not None and not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    validate_inline_keyboard(markup)
    # An empty inline keyboard removes the keyboard, as in Telegram.
    if markup is not None and markup.get("inline_keyboard") == []:
        return None
    return markup


METHODS = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
}
