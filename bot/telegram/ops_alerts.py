"""Ops alerts to the ops chat through the durable outbox, after the gate's deduplication and rate limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from html import escape

from aiogram import Bot

from bot.ops_log import log_alert, log_suppressed
from core.alert_gate import AlertGate, GatedAlert
from core.clock import Clock
from core.notify import OpsAlert, Severity
from storage.outbox_store import OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
DIRECT_SEND_SECONDS = 5.0
_ICON = {Severity.INFO: "🟢", Severity.WARNING: "🟠", Severity.CRITICAL: "🔴"}


def render_ops_alert(gated: GatedAlert) -> str:
    a = gated.alert
    lines = [f"{_ICON[a.severity]} <b>{a.severity.value.upper()}</b> · {escape(a.what)}"]
    if a.subject:
        lines.append(f"Subject: {escape(a.subject)}")
    lines.append(f"Action: {escape(a.action)}")
    if gated.suppressed:
        lines.append(f"<i>{gated.suppressed} repeat(s) of this alert suppressed since the last one.</i>")
    if gated.cap_reached:
        lines.append("<i>Alert limit reached: further alerts are held back and counted for a while.</i>")
    return "\n".join(lines)


class TelegramOpsAlerts:
    def __init__(self, gate: AlertGate, outbox: SqlOutbox, wake_sender: Callable[[], None], bot: Bot, clock: Clock, chat_id: int) -> None:
        self._gate = gate
        self._outbox = outbox
        self._wake_sender = wake_sender
        self._bot = bot
        self._clock = clock
        self._chat_id = chat_id

    async def alert(self, alert: OpsAlert) -> None:
        gated = self._gate.admit(alert)
        if gated is None:
            log_suppressed(alert)
            return
        log_alert(gated)
        if not self._chat_id:
            return  # no ops chat configured: the log line is the alert
        text = render_ops_alert(gated)
        try:
            await self._outbox.queue_text(self._chat_id, text, self._clock.now())
        except Exception as exc:  # noqa: BLE001 - the outbox lives in the database, which may be what failed
            await self._send_directly(text, exc)
            return
        self._wake_sender()

    async def _send_directly(self, text: str, cause: Exception) -> None:
        """Best effort, once: an alert about the database must not depend on the database."""
        log.warning("event=ops_alert_outbox_unavailable error=%s: sending directly", type(cause).__name__)
        try:
            async with asyncio.timeout(DIRECT_SEND_SECONDS):
                await self._bot.send_message(self._chat_id, text)
        except Exception as exc:  # noqa: BLE001 - nothing else to fall back to; the log has the alert
            log.error("event=ops_alert_undelivered error=%s", type(exc).__name__)


def blocked_alert(chat_id: int, dropped: int) -> OpsAlert:
    return OpsAlert(
        "chat_blocked", Severity.WARNING, f"User {chat_id} blocked the bot.", f"chat {chat_id}",
        f"Dropped {dropped} queued message(s) for them; they get cards again after sending /start.",
    )


def gave_up_alert(item: OutboxItem, error: str) -> OpsAlert:
    about = f" about signal {item.signal_id}" if item.signal_id else ""
    return OpsAlert(
        "telegram_gave_up", Severity.WARNING, f"Telegram refused a message ({item.intent}){about}: {error}", f"chat {item.chat_id}",
        "Gave up on that message (retrying cannot help); the chat's later messages are still sent. Check the chat id.",
    )
