"""Queues cards for newly accepted signals. Woken by ingest for low latency; a periodic pass catches
anything a restart interrupted."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.telegram.sender import OutboxSender
from core.clock import Clock
from core.log_context import signal_scope
from core.roles import Roles
from storage.card_fanout import SqlCardFanout

log = logging.getLogger(__name__)
BATCH = 100


class CardFanout:
    def __init__(self, store: SqlCardFanout, roles: Roles, clock: Clock, approval_ttl: timedelta, sender: OutboxSender) -> None:
        self._store = store
        self._roles = roles
        self._clock = clock
        self._ttl = approval_ttl
        self._sender = sender
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._fan_out_all()
            except Exception:  # the database may be down: try again on the next wake or tick
                log.exception("event=fanout_failed")
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _fan_out_all(self) -> None:
        while True:
            now = self._clock.now()
            claimed = await self._store.fan_out(
                traders=self._roles.traders, viewers=self._roles.viewers, created_after=now - self._ttl, now=now, limit=BATCH
            )
            for signal_id in claimed:
                with signal_scope(signal_id):
                    log.info("event=cards_queued signal_id=%s", signal_id)
            if claimed:
                self._sender.wake()
            if len(claimed) < BATCH:
                return
