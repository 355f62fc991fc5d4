"""Accepting a producer's signal: validate the body, check the order rules, store it exactly once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.errors import InvalidSignal
from core.ids import SignalIdFactory
from core.instruments import InstrumentTable
from core.log_context import signal_scope
from core.order_rules import OrderRules, check_order_constraints
from core.ports import SignalStore
from core.signal_body import parse_signal_body
from core.signals import IngestResult, NewSignal, Signal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestPolicy:
    max_future_skew: timedelta = timedelta(seconds=300)
    dedup_window: timedelta = timedelta(seconds=300)


class SignalIngestService:
    def __init__(
        self,
        store: SignalStore,
        clock: Clock,
        instruments: InstrumentTable,
        rules: OrderRules,
        policy: IngestPolicy,
        on_created: Callable[[Signal], None] = lambda signal: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._instruments = instruments
        self._rules = rules
        self._policy = policy
        self._ids = SignalIdFactory()
        self._on_created = on_created  # told after commit, e.g. to fan out cards at once

    async def submit(
        self, producer_id: str, body: bytes, *, idempotency_key: str | None = None, signature: str | None = None
    ) -> IngestResult:
        now = self._clock.now()
        draft = parse_signal_body(body, now=now, max_future_skew=self._policy.max_future_skew)
        spec = self._instruments.spec(draft.instrument)
        problems = check_order_constraints(
            self._rules, spec, draft.side, draft.price, draft.stop_loss, draft.take_profit
        )
        if problems:
            raise InvalidSignal(problems)
        result = await self._store.add(
            NewSignal(
                id=self._ids.new_id(now),
                producer_id=producer_id,
                draft=draft,
                created_at=now,
                dedup_expires_at=now + self._policy.dedup_window,
                request_digest=hashlib.sha256(body).hexdigest(),
                # A byte-identical replay carries the same signature; storing its digest lets storage refuse it.
                signature_digest=hashlib.sha256(signature.encode()).hexdigest() if signature else None,
                idempotency_key=idempotency_key,
            )
        )
        signal = result.signal
        with signal_scope(signal.id):
            log.info("event=signal_accepted signal_id=%s producer_id=%s instrument=%s created=%s",
                     signal.id, producer_id, signal.instrument, result.created)
        if result.created:
            self._on_created(signal)
        return result
