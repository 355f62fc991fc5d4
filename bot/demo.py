"""`signaldesk demo`: the whole desk offline. The Bot API emulator plays Telegram, a scripted producer
sends signals, two scripted traders decide, and the tour prints what each person would read."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_desk, serve_http
from bot.config import load_settings
from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from bot.emulator.model import SentMessage
from bot.producer_client import ProducerApiError, ProducerClient, SendResult

PRODUCER_ID = "demo-strategy"
ALICE, BOB, OPS = 1001, 1002, 1003
NAMES = {ALICE: "Alice", BOB: "Bob", OPS: "Olga (admin)"}
Out = Callable[[str], None]


async def run_demo(*, port: int = 0, out: Out = print) -> int:
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="signaldesk-demo-") as tmp:
        async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram:
            settings = load_settings(
                None,
                database={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"},
                http={"port": port},
                producers=[{"id": PRODUCER_ID, "secrets": [secret]}],
                telegram={
                    "token": telegram.token, "api_base": telegram.base_url, "traders": [ALICE, BOB],
                    "admins": [OPS], "ops_chat_id": OPS, "rate_chat_per_second": 20, "rate_global_per_second": 200,
                },
            )
            async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", port) as url:
                out(f"SignalDesk demo: producer API on {url}; Telegram is played by the built-in Bot API emulator.")
                chats = _Chats(telegram, out)
                async with ProducerClient(url, PRODUCER_ID, secret) as client:
                    await _tour(client, ProducerClient(url, PRODUCER_ID, secret, clock=_ten_minutes_ago), chats, out)
    out("\nDone. Nothing is left running and the temporary database is gone.")
    return 0


async def _tour(client: ProducerClient, late_client: ProducerClient, chats: _Chats, out: Out) -> None:
    out("\n1. The traders say hello")
    for user in (ALICE, BOB):
        await chats.say(user, "/start")

    now = datetime.now(UTC).replace(microsecond=0)
    out("\n2. A strategy sends signals to the desk")
    gold = await _send(out, "a gold buy, entry 2400.50, stop 2390.00, target 2420.00",
                       lambda: client.send_signal("XAUUSD", "buy", "2400.50", "2390.00", "2420.00", time=now, external_id="tv-1001"))
    euro = await _send(out, "a EURUSD sell, entry 1.07200, stop 1.07400, target 1.06800",
                       lambda: client.send_signal("EURUSD", "sell", "1.07200", "1.07400", "1.06800", time=now, external_id="tv-1002"))
    await _send(out, "the gold alert fires a second time",
                lambda: client.send_signal("XAUUSD", "buy", "2400.50", "2390.00", "2420.00", time=now, external_id="tv-1001"))
    async with late_client:
        await _send(out, "a relay whose clock is 10 minutes slow",
                    lambda: late_client.send_signal("EURUSD", "buy", "1.07200", "1.07000", "1.07800", time=now))
    await _send(out, "a EURUSD buy risking 20 pips to make 10",
                lambda: client.send_signal("EURUSD", "buy", "1.07200", "1.07000", "1.07300", time=now))

    out("\n3. Each accepted signal reaches every trader as a card")
    assert gold and euro
    alice_gold = await chats.card(ALICE, gold)
    await chats.card(ALICE, euro)
    bob_gold = await chats.card(BOB, gold)

    out("\n4. The traders decide")
    await chats.press(ALICE, alice_gold, "Approve")
    await chats.press(BOB, bob_gold, "Reject")
    await chats.press(BOB, bob_gold, "Reject", again=True)
    status = (await client.get_signal(gold.signal["id"]))["status"]
    out(f"   The producer sees the gold signal as: {status}")

    out("\n5. The admin checks the desk")
    await chats.say(OPS, "/status")


async def _send(out: Out, what: str, send: Callable[[], Awaitable[SendResult]]) -> SendResult | None:
    try:
        result = await send()
    except ProducerApiError as exc:
        out(f"   {what}: refused, HTTP {exc.status}: {exc.detail}")
        return None
    out(f"   {what}: accepted as signal #{result.signal['id'].replace('-', '')[-8:]}")
    return result


class _Chats:
    """Drives the emulator as the scripted users and prints what they see."""

    def __init__(self, telegram: BotApiEmulator, out: Out) -> None:
        self._telegram = telegram
        self._out = out

    async def say(self, user: int, text: str) -> None:
        before = len(self._telegram.messages(user))
        self._out(f"   {NAMES[user]:>12} > {text}")
        self._telegram.say(user, text)
        reply = (await self._telegram.wait_for_messages(user, before + 1, timeout=10))[before]
        self._show(user, reply)

    async def card(self, user: int, signal: SendResult) -> SentMessage:
        short = signal.signal["id"].replace("-", "")[-8:]
        messages = await self._telegram.wait_for_messages(user, lambda ms: any(f"#{short}" in (m.text or "") for m in ms), timeout=10)
        card = next(m for m in messages if f"#{short}" in (m.text or ""))
        self._show(user, card)
        return card

    async def press(self, user: int, card: SentMessage, button: str, *, again: bool = False) -> None:
        edits = card.edits
        data = card.button(button).callback_data
        self._out(f"   {NAMES[user]:>12} > presses [{button}]{' again' if again else ''}")
        answer = await self._telegram.wait_for_answer(
            self._telegram.press(user, card.message_id, data=data, require_button=not again)
        )
        self._out(f"   {'SignalDesk':>12} : (pop-up) {answer.text}")
        if not again:
            await self._telegram.wait_until(lambda: self._current(card).edits > edits, timeout=10)
            self._show(user, self._current(card), edited=True)

    def _current(self, card: SentMessage) -> SentMessage:
        return next(m for m in self._telegram.messages(card.chat_id) if m.message_id == card.message_id)

    def _show(self, user: int, message: SentMessage, *, edited: bool = False) -> None:
        label = "(card now reads) " if edited else ""
        lines = (message.text or "").splitlines()
        self._out(f"   {'to ' + NAMES[user].split()[0]:>12} : {label}{lines[0] if lines else ''}")
        for line in lines[1:]:
            self._out(f"   {'':>12}   {line}")
        buttons = [b.text for row in message.buttons for b in row]
        if buttons:
            self._out(f"   {'':>12}   " + "  ".join(f"[{b}]" for b in buttons))


def _ten_minutes_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=10)
