"""The one outgoing sender: delivers the outbox in order per chat, within Telegram's limits.

- Limits: an aiolimiter bucket for the bot, spaced (no bursts) a little under the configured rate, taken
  right before each call. Per chat, one message in flight, and the next call no sooner than the chat
  interval after the previous call's answer arrived: Telegram handled that call before answering, so
  the two reach it at least the interval apart whatever the network's delays.
- 429: the whole sender pauses for `retry_after`; the message goes back to the queue.
- Network errors and 5xx: retried with exponential backoff; nothing is dropped.
- 403 (the user blocked the bot): that chat's queue is dropped and ops are told.
- 400 (Telegram refuses the message itself, e.g. chat not found): retrying cannot help; the sender gives
  up on that message and ops are told.
- Restart: a message left `sending` may or may not have reached Telegram. Message ids grow per chat, so
  the sender probes the ids after the last one it knows by re-applying the message's keyboard: "not
  modified" (or an edit) means it was delivered, "not found" means it was not. Each message goes out
  exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiolimiter import AsyncLimiter

from bot.telegram.outgoing import Outgoing
from core.clock import Clock
from core.log_context import signal_scope
from storage.outbox_queue import SENDING_INTENTS
from storage.outbox_store import OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
SAFETY = 0.99  # just under the bot-wide limit; aiolimiter wakes ~1 ms late per token, which adds margin
MAX_BACKOFF_SECONDS = 30.0
MAX_PROBES_PAST_USER_MESSAGES = 20
TRANSIENT = (TelegramNetworkError, TelegramServerError, aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class SendLimits:
    global_per_second: float = 30.0
    chat_per_second: float = 1.0
    max_in_flight: int = 64


class OutboxSender:
    def __init__(
        self,
        outgoing: Outgoing,
        outbox: SqlOutbox,
        clock: Clock,
        limits: SendLimits,
        on_blocked: Callable[[int, int], Awaitable[None]],
        on_gave_up: Callable[[OutboxItem, str], Awaitable[None]],
    ) -> None:
        self._outgoing = outgoing
        self._outbox = outbox
        self._clock = clock
        self._limits = limits
        self._on_blocked = on_blocked
        self._on_gave_up = on_gave_up
        self._global = AsyncLimiter(1, 1 / (limits.global_per_second * SAFETY))
        self._chat_interval = 1 / limits.chat_per_second
        self._last_answer: dict[int, float] = {}  # loop time each chat's latest call was answered
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._rng = random.Random()
        self.too_many_requests = 0  # 429s received: the limiter should keep this at zero
        self._crashes = 0  # deliveries that ended without recording their outcome (e.g. the database went away)
        self._crashes_resolved = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._recover_interrupted()
                break
            except Exception as exc:  # noqa: BLE001 - Telegram or the database unreachable at start: keep trying, queue untouched
                attempt += 1
                delay = min(MAX_BACKOFF_SECONDS, 2.0**attempt)
                log.warning("event=recovery_retry in=%.0fs error=%s", delay, type(exc).__name__)
                await asyncio.sleep(delay)
        try:
            while True:
                self._wake.clear()
                try:
                    await self._recover_crashed()
                    await self._dispatch_ready()
                except Exception as exc:  # the outbox's database may be down: keep the loop, look again soon
                    log.warning("event=outbox_unreachable error=%s", type(exc).__name__)
                try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                    async with asyncio.timeout(0.5):
                        await self._wake.wait()
                except TimeoutError:
                    pass  # periodic look: retries whose backoff has passed
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch_ready(self) -> None:
        room = self._limits.max_in_flight - len(self._busy)
        if room <= 0:
            return
        for item in await self._outbox.claim_ready(self._clock.now(), room, self._busy):
            self._busy.add(item.chat_id)
            task = asyncio.create_task(self._deliver(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            await self._turn(item.chat_id)
            try:
                with signal_scope(item.signal_id):
                    await self._attempt(item)
            finally:
                self._answered(item.chat_id)
        except Exception:
            # Never lose the row: it stays `sending` (holding back its chat) until the loop resolves it.
            log.exception("event=delivery_crashed outbox_id=%d chat_id=%d", item.id, item.chat_id)
            self._crashes += 1
        finally:
            self._busy.discard(item.chat_id)
            self._wake.set()

    async def _turn(self, chat_id: int) -> None:
        """Wait until this chat and then the bot may send; the call must follow at once."""
        loop = asyncio.get_running_loop()
        chat_wait = self._last_answer.get(chat_id, -self._chat_interval) + self._chat_interval - loop.time()
        if chat_wait > 0:
            await asyncio.sleep(chat_wait)
        await self._global_turn()

    def _answered(self, chat_id: int) -> None:
        self._last_answer[chat_id] = asyncio.get_running_loop().time()

    async def _global_turn(self) -> None:
        # Real loop time, not the injected clock: this is an actual wait before calling Telegram again.
        while (wait := self._paused_until - asyncio.get_running_loop().time()) > 0:
            await asyncio.sleep(wait)
        await self._global.acquire()

    async def _attempt(self, item: OutboxItem) -> None:
        now = self._clock.now()
        try:
            message_id = await self._outgoing.deliver(item)
        except TelegramRetryAfter as exc:
            self.too_many_requests += 1
            self._paused_until = max(self._paused_until, asyncio.get_running_loop().time() + exc.retry_after)
            log.warning("event=telegram_429 chat_id=%d retry_after=%s", item.chat_id, exc.retry_after)
            # Due at once: the sender-wide pause above is what makes it wait.
            await self._outbox.retry_later(item, now, "429 Too Many Requests")
        except TelegramForbiddenError as exc:
            dropped = await self._outbox.block_chat(item.chat_id, exc.message)
            log.warning("event=chat_blocked_bot chat_id=%d dropped=%d", item.chat_id, dropped)
            await self._on_blocked(item.chat_id, dropped)
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                await self._outbox.mark_sent(item, None, now)
            else:
                log.error("event=delivery_refused outbox_id=%d chat_id=%d error=%s", item.id, item.chat_id, exc.message)
                await self._outbox.fail(item, exc.message)
                await self._on_gave_up(item, exc.message)
        except TRANSIENT as exc:
            delay = min(MAX_BACKOFF_SECONDS, 2.0 ** item.attempts) * self._rng.uniform(0.9, 1.1)
            log.warning("event=delivery_retry outbox_id=%d chat_id=%d attempt=%d in=%.1fs error=%s",
                        item.id, item.chat_id, item.attempts + 1, delay, type(exc).__name__)
            await self._outbox.retry_later(item, now + timedelta(seconds=delay), type(exc).__name__)
        else:
            await self._outbox.mark_sent(item, message_id, now)
            log.debug("event=message_sent outbox_id=%d chat_id=%d intent=%s message_id=%s", item.id, item.chat_id, item.intent, message_id)

    async def _recover_crashed(self) -> None:
        """Resolve rows left `sending` by crashed deliveries of this run, as a restart would."""
        if self._crashes == self._crashes_resolved:
            return
        crashes = self._crashes
        await self._recover_interrupted()
        self._crashes_resolved = crashes

    async def _recover_interrupted(self) -> None:
        by_chat: dict[int, list[OutboxItem]] = defaultdict(list)
        for item in await self._outbox.interrupted():
            if item.chat_id not in self._busy:  # a busy chat's `sending` row is in flight right now
                by_chat[item.chat_id].append(item)
        for chat_id, items in by_chat.items():
            sends = [i for i in items if i.intent in SENDING_INTENTS]
            try:
                delivered = await self._probe_delivered(chat_id, sends)
            except TelegramForbiddenError as exc:
                dropped = await self._outbox.block_chat(chat_id, exc.message)
                await self._on_blocked(chat_id, dropped)
                continue
            now = self._clock.now()
            for item, message_id in zip(sends, delivered, strict=False):
                await self._outbox.mark_sent(item, message_id, now)
            # Not delivered, or an edit (safe to repeat): back in the queue, in their original order.
            for item in [i for i in items if i not in sends[: len(delivered)]]:
                await self._outbox.retry_later(item, now, "interrupted by a restart")
            log.info("event=outbox_recovered chat_id=%d interrupted=%d delivered=%d", chat_id, len(items), len(delivered))

    async def _probe_delivered(self, chat_id: int, sends: list[OutboxItem]) -> list[int]:
        """Ids of the first of `sends` that reached the chat (they go out in order, so a prefix)."""
        found: list[int] = []
        candidate = await self._outbox.last_message_id(chat_id) + 1
        skipped = 0
        while len(found) < len(sends) and skipped < MAX_PROBES_PAST_USER_MESSAGES:
            markup = await self._outgoing.markup_of(sends[len(found)])
            await self._turn(chat_id)
            try:
                await self._outgoing.bot.edit_message_reply_markup(chat_id=chat_id, message_id=candidate, reply_markup=markup)
            except TelegramBadRequest as exc:
                self._answered(chat_id)
                if "not modified" in exc.message:
                    found.append(candidate)
                elif "can't be edited" in exc.message:
                    skipped += 1  # the user's own message: keep looking past it
                else:
                    break  # "message to edit not found": nothing more was delivered
            else:
                self._answered(chat_id)
                found.append(candidate)  # delivered, and its keyboard now shows the current state
            candidate += 1
        return found
