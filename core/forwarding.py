"""Delivering queued forwards: one attempt per claimed delivery, its outcome recorded, ops told when one is lost.

The queue hands deliveries out under a lease (an atomic claim), so two workers or instances never send the
same one at once; a worker that dies mid-attempt loses its lease and the delivery is tried again, with the
same idempotency key and body, which a receiver that got the first attempt answers as a replay."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.clock import Clock
from core.forward_policy import Backoff, ForwardItem, ForwardTarget, Verdict, forward_body, given_up, verdict
from core.log_context import signal_scope
from core.notify import OpsAlert, OpsAlerts, Severity

log = logging.getLogger(__name__)
LEASE_MARGIN = timedelta(seconds=30)  # a claim outlives the attempt's timeout by this much


@dataclass(frozen=True)
class ForwardRequest:
    body: bytes
    idempotency_key: str
    event: str


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its status (None: no answer at all) and a short description."""

    status: int | None
    detail: str
    retry_after: float | None = None


class ForwardQueue(Protocol):
    async def claim(self, worker: str, targets: Sequence[str], now: datetime, lease: timedelta, limit: int) -> list[ForwardItem]:
        """Due deliveries to these targets, each counted as one more attempt and held until now + lease."""
        ...

    async def delivered(self, item: ForwardItem, worker: str, now: datetime) -> bool: ...

    async def retry_at(self, item: ForwardItem, worker: str, due: datetime, error: str) -> bool: ...

    async def failed(self, item: ForwardItem, worker: str, now: datetime, error: str) -> bool: ...


class ForwardPoster(Protocol):
    async def post(self, target: ForwardTarget, request: ForwardRequest) -> Answer:
        """POST the request to the target, signed; never raises for what the network or receiver does."""
        ...


class ForwardingService:
    def __init__(
        self,
        queue: ForwardQueue,
        poster: ForwardPoster,
        targets: Sequence[ForwardTarget],
        clock: Clock,
        alerts: OpsAlerts,
        *,
        worker: str,
        rng: random.Random | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        self._queue = queue
        self._poster = poster
        self._targets = {target.url: target for target in targets}
        self._clock = clock
        self._alerts = alerts
        self._worker = worker
        self._rng = rng or random.Random()
        self._backoff = backoff
        self._lease = timedelta(seconds=max((t.timeout_seconds for t in targets), default=0)) + LEASE_MARGIN

    async def claim(self, limit: int) -> list[ForwardItem]:
        return await self._queue.claim(self._worker, list(self._targets), self._clock.now(), self._lease, limit)

    async def deliver(self, item: ForwardItem) -> None:
        """One attempt at `item`, and what follows from its answer."""
        target = self._targets[item.target]
        with signal_scope(item.signal.id):
            answer = await self._poster.post(target, ForwardRequest(forward_body(item.signal), item.idempotency_key, item.event))
            fields = f"target={target.name} event={item.event} attempt={item.attempt} answer={answer.detail!r}"
            now = self._clock.now()
            outcome = verdict(answer.status)
            if outcome is Verdict.DELIVERED:
                log.info("event=forward_delivered %s", fields)
                await self._queue.delivered(item, self._worker, now)
            elif outcome is Verdict.REFUSED:
                log.error("event=forward_refused %s", fields)
                if await self._queue.failed(item, self._worker, now, answer.detail):
                    await self._alerts.alert(refused_alert(target, item, answer))
            else:
                await self._retry_or_give_up(target, item, answer, now, fields)

    async def _retry_or_give_up(self, target: ForwardTarget, item: ForwardItem, answer: Answer, now: datetime, fields: str) -> None:
        delay = self._backoff.delay(item.attempt, self._rng, answer.retry_after)
        due = now + timedelta(seconds=delay)
        if given_up(target, item, due):
            log.error("event=forward_given_up %s", fields)
            if await self._queue.failed(item, self._worker, now, answer.detail):
                await self._alerts.alert(exhausted_alert(target, item, answer, now))
            return
        log.warning("event=forward_retry %s in=%.1fs", fields, delay)
        await self._queue.retry_at(item, self._worker, due, answer.detail)


def refused_alert(target: ForwardTarget, item: ForwardItem, answer: Answer) -> OpsAlert:
    return OpsAlert(
        kind="forward_refused",
        severity=Severity.CRITICAL,
        what=f"{target.name} refused signal {item.signal.short_id} ({item.event}): {answer.detail}",
        subject=f"forward target {target.name}",
        action="Gave up on this delivery: the target will not take it as sent. Check the target's producer id, "
        "secret and rules; other signals are still forwarded.",
    )


def exhausted_alert(target: ForwardTarget, item: ForwardItem, answer: Answer, now: datetime) -> OpsAlert:
    minutes = (now - item.queued_at).total_seconds() / 60
    return OpsAlert(
        kind="forward_retries_exhausted",
        severity=Severity.WARNING,
        what=f"forwarding signal {item.signal.short_id} ({item.event}) to {target.name} failed {item.attempt} times "
        f"over {minutes:.0f} min; last: {answer.detail}",
        subject=f"forward target {target.name}",
        action="Gave up on this delivery; the signal itself is unaffected and later signals are still forwarded.",
    )
