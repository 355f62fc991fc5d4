"""Closing positions on request: a trader's own position by the short id they were shown, or (an admin)
every open position of every account."""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.accounts import AccountMap
from core.errors import BrokerError, NoQuote, TradeNotFound
from core.notify import TraderNotifier
from core.trades import CloseReason, Position, TradeEvent, TradeEventKind
from core.trading_ports import Broker, TradeStore

log = logging.getLogger(__name__)

SHORT_ID_LENGTH = 8
_TYPED_ID = re.compile(r"^[0-9a-f]{4,32}$")


def short_position_id(position_id: str) -> str:
    """What the trader sees and types: the id's last hex digits (as for signals)."""
    return position_id.replace("-", "")[-SHORT_ID_LENGTH:]


def parse_position_id(typed: str) -> str | None:
    """The hex digits of a typed id ("#1a2b3c4d", a full UUID, or at least 4 trailing digits); None if malformed."""
    digits = typed.strip().removeprefix("#").replace("-", "").lower()
    return digits if _TYPED_ID.match(digits) else None


def _matching(positions: Sequence[Position], digits: str) -> list[Position]:
    return [p for p in positions if p.id.replace("-", "").lower().endswith(digits)]


class CloseOutcome(enum.StrEnum):
    CLOSED = "closed"
    NOT_FOUND = "not_found"  # no open or closed position of this trader, nor anyone's open one, has that id
    AMBIGUOUS = "ambiguous"  # several of the trader's positions end with those digits
    NOT_YOURS = "not_yours"  # another trader's open position
    ALREADY_CLOSED = "already_closed"
    NO_QUOTE = "no_quote"  # no price to close at yet
    FAILED = "failed"  # the broker did not close it


@dataclass(frozen=True)
class CloseResult:
    outcome: CloseOutcome
    digits: str  # what the trader asked for
    position: Position | None = None  # the closed (or matched) position
    detail: str = ""  # FAILED: the broker's words


@dataclass(frozen=True)
class CloseFailure:
    position: Position | None  # None: the account's positions could not even be listed
    account_id: str
    reason: str


@dataclass(frozen=True)
class CloseAllReport:
    closed: tuple[Position, ...]
    failed: tuple[CloseFailure, ...]


class PositionDesk:
    def __init__(self, broker: Broker, store: TradeStore, accounts: AccountMap, notifier: TraderNotifier) -> None:
        self._broker = broker
        self._store = store
        self._accounts = accounts
        self._notifier = notifier

    async def close(self, trader_id: int, digits: str) -> CloseResult:
        """Close the trader's own open position whose id ends with `digits` (from `parse_position_id`)."""
        account_id = self._accounts.account_of(trader_id)
        own = _matching(await self._broker.positions(account_id), digits)
        if len(own) > 1:
            return CloseResult(CloseOutcome.AMBIGUOUS, digits)
        if own:
            return await self._close_own(own[0], digits)
        closed = _matching(await self._store.closed_positions(account_id), digits)
        if closed:
            return CloseResult(CloseOutcome.ALREADY_CLOSED, digits, closed[-1])
        for other in self._accounts.accounts():
            if other != account_id and _matching(await self._broker.positions(other), digits):
                return CloseResult(CloseOutcome.NOT_YOURS, digits)
        return CloseResult(CloseOutcome.NOT_FOUND, digits)

    async def _close_own(self, position: Position, digits: str) -> CloseResult:
        try:
            closed = await self._broker.close_position(position.id, CloseReason.MANUAL)
        except NoQuote:
            return CloseResult(CloseOutcome.NO_QUOTE, digits, position)
        except TradeNotFound:  # closed between the lookup and now (at its stop or target, say)
            return CloseResult(CloseOutcome.ALREADY_CLOSED, digits, await self._store.position(position.id) or position)
        except BrokerError as exc:
            log.warning("event=close_failed position_id=%s error=%s", position.id, exc)
            return CloseResult(CloseOutcome.FAILED, digits, position, str(exc))
        log.info("event=position_closed position_id=%s reason=manual pnl=%s", closed.id, closed.pnl)
        return CloseResult(CloseOutcome.CLOSED, digits, closed)

    async def open_positions(self) -> list[Position]:
        """Every open position of every account (what `close_all` would close now)."""
        return [p for account_id in self._accounts.accounts() for p in await self._broker.positions(account_id)]

    async def close_all(self) -> CloseAllReport:
        """Close every open position of every account at the current price; the owners are told."""
        closed: list[Position] = []
        failed: list[CloseFailure] = []
        for account_id in self._accounts.accounts():
            try:
                positions = await self._broker.positions(account_id)
            except BrokerError as exc:
                failed.append(CloseFailure(None, account_id, f"positions could not be listed: {exc}"))
                continue
            for position in positions:
                try:
                    closed.append(await self._broker.close_position(position.id, CloseReason.MANUAL))
                except TradeNotFound:
                    continue  # it closed by itself meanwhile: nothing is left open
                except NoQuote:
                    failed.append(CloseFailure(position, account_id, f"no quote for {position.instrument} yet"))
                except BrokerError as exc:
                    failed.append(CloseFailure(position, account_id, str(exc)))
        log.info("event=close_all closed=%d failed=%d", len(closed), len(failed))
        await self._notifier.trade_events(await self._events(closed))
        return CloseAllReport(tuple(closed), tuple(failed))

    async def _events(self, closed: Sequence[Position]) -> list[TradeEvent]:
        """Closing events for the owners; a position without an order in the store (a live broker's) has none."""
        events = []
        for position in closed:
            order = await self._store.order(position.order_id)
            if order is not None:
                events.append(TradeEvent(TradeEventKind.CLOSED, order, position))
        return events
