"""Traders' decisions on signals: one per (signal, trader), audited, moving the signal's status."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.clock import Clock
from core.errors import NotAuthorized
from core.log_context import signal_scope
from core.roles import Roles
from core.signals import Signal, SignalStatus

log = logging.getLogger(__name__)

SETTLE_GRACE = timedelta(minutes=1)


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class DecisionRequest:
    signal_id: str
    trader_id: int
    chat_id: int
    decision: Decision
    consent_version: str
    at: datetime


@dataclass(frozen=True)
class DecisionRecorded:
    signal: Signal  # with its status after the decision
    decision: Decision


class DecisionStore(Protocol):
    async def record_decision(self, request: DecisionRequest, *, traders: frozenset[int], open_since: datetime) -> DecisionRecorded:
        """Atomically: record the decision once, move the signal's status, append to the audit chain and
        queue the card update for the trader's chat. Raises SignalNotFound, AlreadyDecided or DecisionClosed
        (signal older than `open_since` or no longer new/approved); nothing is written then."""
        ...

    async def expire_undecided(self, created_before: datetime, now: datetime) -> list[str]:
        """Mark `new` signals created before `created_before` expired, queue 'expired' edits of their
        undecided cards, audit it; returns the expired signal ids."""
        ...

    async def settle_finished(self, created_before: datetime, now: datetime) -> list[tuple[str, SignalStatus]]:
        """End the life of signals created before `created_before` that nothing more can happen to:
        `approved` ones none of whose approvals became an order are cancelled; `executed` ones whose orders
        have all closed or been cancelled are closed. Audited; returns (signal id, new status) pairs."""
        ...


class ApprovalService:
    def __init__(self, store: DecisionStore, roles: Roles, clock: Clock, ttl: timedelta, consent_version: str) -> None:
        self._store = store
        self._roles = roles
        self._clock = clock
        self._ttl = ttl
        self._consent_version = consent_version

    async def decide(self, signal_id: str, user_id: int, chat_id: int, decision: Decision) -> DecisionRecorded:
        if not self._roles.is_trader(user_id):
            log.warning("event=decision_refused reason=not_a_trader user_id=%d signal_id=%s", user_id, signal_id)
            raise NotAuthorized("only traders can approve or reject signals")
        now = self._clock.now()
        recorded = await self._store.record_decision(
            DecisionRequest(signal_id, user_id, chat_id, decision, self._consent_version, now),
            traders=self._roles.traders,
            open_since=now - self._ttl,
        )
        log.info("event=decision signal_id=%s trader_id=%d decision=%s status=%s", signal_id, user_id, decision, recorded.signal.status)
        return recorded

    async def expire_due(self) -> list[str]:
        now = self._clock.now()
        expired = await self._store.expire_undecided(now - self._ttl, now)
        for signal_id in expired:
            with signal_scope(signal_id):
                log.info("event=signal_expired signal_id=%s", signal_id)
        return expired

    async def settle_finished(self) -> list[tuple[str, SignalStatus]]:
        now = self._clock.now()
        # A grace past the window: an approval that passed its window check just before the window closed
        # may still be committing, and would be missed by a settle that cannot see it yet.
        settled = await self._store.settle_finished(now - self._ttl - SETTLE_GRACE, now)
        for signal_id, status in settled:
            with signal_scope(signal_id):
                log.info("event=signal_settled signal_id=%s status=%s", signal_id, status)
        return settled
