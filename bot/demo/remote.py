"""Talking to a demo left running (`signaldesk demo --keep-running`) from another process: act as one of its
users through the Bot API emulator's control API, and show what the bot sent or edited in reply, the way
the tour shows it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console

from bot.demo.cast import PEOPLE
from bot.demo.console import Transcript
from bot.demo.photos import PhotoShelf
from bot.emulator.model import Button, SentMessage

ANSWER_SECONDS = 10.0  # the bot's first reaction (a pop-up, an edit, a message) comes within this
QUIET_SECONDS = 0.7  # what it sends is taken as complete once the chat stayed the same for this long
POLL_SECONDS = 0.1


class EmulatorError(Exception):
    """The emulator refused a control request; the message is its reason."""


class EmulatorClient:
    """The control API under `{url}/_emulator/`."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self._base = url.rstrip("/") + "/_emulator"
        self._http = http

    async def messages(self, chat_id: int) -> list[SentMessage]:
        body = await self._call("GET", f"/chats/{chat_id}/messages")
        return [sent_message(m) for m in body["messages"]]

    async def say(self, user_id: int, text: str) -> None:
        await self._call("POST", "/say", json={"user_id": user_id, "text": text})

    async def press(self, user_id: int, message_id: int, button: str) -> str:
        body = await self._call("POST", "/press", json={"chat_id": user_id, "message_id": message_id, "button": button})
        return str(body["callback_query_id"])

    async def answer(self, callback_id: str, timeout: float) -> str | None:
        """The pop-up the bot answered a press with; None when it did not answer in time."""
        try:
            body = await self._call("GET", f"/callbacks/{callback_id}?timeout={timeout}")
        except EmulatorError:
            return None
        return (body["answer"] or {}).get("text")

    async def file(self, file_id: str) -> bytes:
        async with self._http.get(f"{self._base}/files/{file_id}") as response:
            if response.status != 200:
                raise EmulatorError(f"the emulator has no file {file_id}")
            return await response.read()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self._http.request(method, self._base + path, **kwargs) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise EmulatorError(str(body.get("error", body)) if isinstance(body, dict) else str(body))
            return body


@dataclass(frozen=True)
class Remote:
    client: EmulatorClient
    transcript: Transcript
    photos: PhotoShelf


@asynccontextmanager
async def remote_chat(url: str, folder: Path, console: Console | None = None) -> AsyncIterator[Remote]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_SECONDS + 5)) as http:
        client = EmulatorClient(url, http)
        photos = PhotoShelf(folder.resolve(), client.file, label=lambda message, _n: f"chat{message.chat_id}-{message.message_id}")
        yield Remote(client, Transcript(console or Console(), PEOPLE), photos)


async def say(remote: Remote, user: int, text: str) -> None:
    before = await remote.client.messages(user)
    remote.transcript.says(user, text)
    await remote.client.say(user, text)
    await _show_changes(remote, user, before)


async def press(remote: Remote, user: int, message_id: int, button: str) -> None:
    before = await remote.client.messages(user)
    message = next((m for m in before if m.message_id == message_id), None)
    if message is None:
        raise EmulatorError(f"the bot sent no message {message_id} to user {user}")
    labels = [b.text for row in message.buttons for b in row]
    if button not in labels:
        raise EmulatorError(f"message {message_id} has no button {button!r}; its buttons: {', '.join(labels) or 'none'}")
    remote.transcript.presses(user, button, message)
    callback = await remote.client.press(user, message_id, button)
    answer = await remote.client.answer(callback, ANSWER_SECONDS)
    if answer is not None:
        remote.transcript.popup(user, answer)
    await _show_changes(remote, user, before)


async def show(remote: Remote, user: int, last: int) -> None:
    messages = (await remote.client.messages(user))[-max(last, 1):]
    if not messages:
        remote.transcript.narrate(f"(the bot has sent nothing to user {user})")
    for message in messages:
        remote.transcript.message(message, await remote.photos.keep(message))


async def _show_changes(remote: Remote, chat_id: int, before: list[SentMessage]) -> None:
    after = await _settled(remote.client, chat_id, before)
    if after == before:
        remote.transcript.narrate(f"(nothing new from the bot within {ANSWER_SECONDS:g} s)")
        return
    earlier = {m.message_id: m for m in before}
    for message in after:
        previous = earlier.get(message.message_id)
        if previous is None:
            remote.transcript.message(message, await remote.photos.keep(message))
        elif message != previous:
            remote.transcript.edited(previous, message)


async def _settled(client: EmulatorClient, chat_id: int, before: list[SentMessage]) -> list[SentMessage]:
    """The chat once it changed and then stayed the same for QUIET_SECONDS; as it was if nothing came in time.
    (Polling: another process cannot wait on the emulator's changes the way the tour does.)"""
    loop = asyncio.get_running_loop()
    started = changed_at = loop.time()
    current = before
    while True:
        await asyncio.sleep(POLL_SECONDS)
        latest = await client.messages(chat_id)
        now = loop.time()
        if latest != current:
            current, changed_at = latest, now
        if current != before and now - changed_at >= QUIET_SECONDS:
            return current
        if current == before and now - started >= ANSWER_SECONDS:
            return current


def sent_message(data: dict[str, Any]) -> SentMessage:
    """A SentMessage from the control API's JSON."""
    rows = tuple(tuple(Button(**button) for button in row) for row in data["buttons"])
    return SentMessage(**{**data, "entities": tuple(data["entities"]), "buttons": rows})
