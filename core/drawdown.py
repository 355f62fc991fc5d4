"""The drawdown guard: per account, drawdown = (peak equity − equity) / peak equity. Past the cap the guard
blocks new orders, cancels the account's pending orders, closes its open positions, and tells the trader
and ops; it allows orders again when an admin resets the account or, if configured, when the drawdown is
back within the cap.

The peak is kept in a store and only ever raised (an admin reset is the one way down), so a breach is
measured against the best equity the account ever had, not the equity after the losses. The block is
stored before anything is closed: the execution service asks `is_blocked` before every order, so no order
slips in between the breach and the closes. A crash after the block leaves orders and positions that the
next check cancels and closes, because a blocked account is emptied on every check."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from core.accounts import AccountMap
from core.clock import Clock
from core.errors import InvalidOrderTransition, SignalDeskError, TradeNotFound
from core.notify import DrawdownNote, OpsAlert, OpsAlerts, Severity, TraderNotifier
from core.trades import CloseReason, Position
from core.trading_ports import Broker
from core.wording import counted

log = logging.getLogger(__name__)


class UnknownAccount(SignalDeskError):
    """Neither an account the desk trades nor a trader who has one."""


class ResetRefused(SignalDeskError):
    """The account cannot be reset now (its equity is not positive, so no peak can be measured from it)."""


@dataclass(frozen=True)
class RiskState:
    account_id: str
    peak: Decimal
    blocked: bool
    blocked_at: datetime | None = None
    reason: str | None = None


class RiskStore(Protocol):
    """The guard's state per account. Every method is one atomic step."""

    async def raise_peak(self, account_id: str, equity: Decimal, *, first_peak: Decimal, now: datetime) -> RiskState:
        """Create the account's state with peak `first_peak` unless it exists; otherwise raise the peak to
        `equity` if that is higher (never lower it). Answers the stored state."""
        ...

    async def state(self, account_id: str) -> RiskState | None: ...

    async def block(self, account_id: str, reason: str, now: datetime) -> bool:
        """Block the account; answers False when it was blocked already (nothing written)."""
        ...

    async def unblock(self, account_id: str, now: datetime) -> bool:
        """Unblock the account; answers False when it was not blocked (nothing written)."""
        ...

    async def reset(self, account_id: str, peak: Decimal, now: datetime) -> bool:
        """Unblock the account and set its peak to `peak` (lower or higher); answers whether it was blocked."""
        ...


def drawdown(peak: Decimal, equity: Decimal) -> Decimal:
    """(peak − equity) / peak as a fraction; 0 at or above the peak. A peak of zero or less has nothing to
    fall from: equity below it counts as fully drawn down."""
    if equity >= peak:
        return Decimal(0)
    if peak <= 0:
        return Decimal(1)
    return (peak - equity) / peak


def percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.2f} %"


@dataclass(frozen=True)
class DrawdownPolicy:
    cap: Decimal  # a fraction: 0.2 is 20 %; past it (strictly more) the account is blocked
    resume_on_recovery: bool  # unblock by itself once the drawdown is back within the cap
    # The first peak is at least this (the paper broker's starting balance), so losses made before the
    # guard first looked still count; None (a live account): the first equity seen.
    starting_equity: Decimal | None = None


@dataclass(frozen=True)
class AccountRisk:
    """One account as the guard sees it; `equity`, `peak` and `drawdown` are None when the broker could
    not say (then `error` says why)."""

    account_id: str
    cap: Decimal
    blocked: bool
    equity: Decimal | None = None
    peak: Decimal | None = None
    drawdown: Decimal | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Closing:
    cancelled: tuple[str, ...]  # pending order ids
    closed: tuple[Position, ...]
    failures: tuple[str, ...]  # one line per order, position or listing that failed

    def summary(self) -> str:
        """E.g. "cancelled 1 pending order, closed 2 positions"; pending orders only when there were any."""
        cancelled = f"cancelled {counted(len(self.cancelled), 'pending order')}, " if self.cancelled else ""
        return f"{cancelled}closed {counted(len(self.closed), 'position')}"


@dataclass(frozen=True)
class DrawdownMeter:
    """The reading side: each account's equity against its stored peak, and whether it is blocked. It
    changes nothing and tells nobody, so /status and the execution service can hold it before the people
    the guard tells (the Telegram side) exist."""

    store: RiskStore
    broker: Broker
    accounts: AccountMap
    policy: DrawdownPolicy

    @property
    def cap(self) -> Decimal:
        return self.policy.cap

    async def is_blocked(self, account_id: str) -> bool:
        state = await self.store.state(account_id)
        return state is not None and state.blocked

    async def status(self) -> list[AccountRisk]:
        """Every account, measured now (for /drawdown and /status)."""
        return [await self._status(account_id) for account_id in self.accounts.accounts()]

    def account_named(self, target: str) -> str:
        """The account an admin means: an account id, or the id of a trader who has one."""
        if target in self.accounts.accounts():
            return target
        if target.isdigit() and int(target) in self.accounts.traders:
            return self.accounts.account_of(int(target))
        raise self._unknown(f"no account or trader {target!r}")

    def require_known(self, account_id: str) -> None:
        if account_id not in self.accounts.accounts():
            raise self._unknown(f"no account {account_id!r}")

    def first_peak(self, equity: Decimal) -> Decimal:
        start = self.policy.starting_equity
        return equity if start is None else max(start, equity)

    def _unknown(self, what: str) -> UnknownAccount:
        return UnknownAccount(f"{what}; accounts: {', '.join(self.accounts.accounts()) or 'none'}")

    async def _status(self, account_id: str) -> AccountRisk:
        state = await self.store.state(account_id)
        blocked = state is not None and state.blocked
        try:
            equity = await self.broker.account_equity(account_id)
        except Exception as exc:  # noqa: BLE001 - one unreachable account must not hide the others
            return AccountRisk(account_id, self.cap, blocked, error=f"{type(exc).__name__}: {exc}")
        peak = max(state.peak, equity) if state is not None else self.first_peak(equity)
        return AccountRisk(account_id, self.cap, blocked, equity, peak, drawdown(peak, equity))


class DrawdownGuard:
    def __init__(self, meter: DrawdownMeter, clock: Clock, notifier: TraderNotifier, alerts: OpsAlerts) -> None:
        self.meter = meter
        self._store = meter.store
        self._broker = meter.broker
        self._clock = clock
        self._notifier = notifier
        self._alerts = alerts

    @property
    def cap(self) -> Decimal:
        return self.meter.cap

    async def is_blocked(self, account_id: str) -> bool:
        """Asked by the execution service before it places any order."""
        return await self.meter.is_blocked(account_id)

    async def check(self, account_id: str) -> AccountRisk:
        """Measure the account, raise its peak, and block / close / unblock as the drawdown requires."""
        equity = await self._broker.account_equity(account_id)
        now = self._clock.now()
        state = await self._store.raise_peak(account_id, equity, first_peak=self.meter.first_peak(equity), now=now)
        fraction = drawdown(state.peak, equity)
        risk = AccountRisk(account_id, self.cap, state.blocked, equity, state.peak, fraction)
        if not state.blocked:
            if fraction > self.cap:
                await self._breach(risk, now)
                return dataclasses.replace(risk, blocked=True)
            return risk
        if self.meter.policy.resume_on_recovery and fraction <= self.cap:
            if await self._store.unblock(account_id, now):
                await self._tell_allowed(risk, "drawdown_recovered", f"drawdown is back to {percent(fraction)}, within the cap", "allowed new orders again")
            return dataclasses.replace(risk, blocked=False)
        await self._close_leftovers(risk)
        return risk

    async def reset(self, account_id: str) -> AccountRisk:
        """An admin's reset: allow orders again and measure the drawdown from the current equity from now on."""
        self.meter.require_known(account_id)
        equity = await self._broker.account_equity(account_id)
        if equity <= 0:
            raise ResetRefused(f"account {account_id} has equity {equity}; a reset needs positive equity to measure from")
        risk = AccountRisk(account_id, self.cap, False, equity, equity, Decimal(0))
        if await self._store.reset(account_id, equity, self._clock.now()):
            await self._tell_allowed(risk, "drawdown_reset", "an admin reset the drawdown guard", f"allowed new orders again; the peak is now the current equity {equity:.2f}")
        return risk

    # --- steps ---

    async def _breach(self, risk: AccountRisk, now: datetime) -> None:
        assert risk.drawdown is not None
        reason = f"drawdown {percent(risk.drawdown)} past the cap of {percent(self.cap)}"
        if not await self._store.block(risk.account_id, reason, now):
            return  # another worker blocked it first and is closing the positions
        log.warning("event=drawdown_breach account=%s equity=%s peak=%s drawdown=%s", risk.account_id, risk.equity, risk.peak, risk.drawdown)
        closing = await self._close_out(risk.account_id)
        action = f"{closing.summary()}, blocked new orders"
        what = f"{reason} (equity {risk.equity:.2f}, peak {risk.peak:.2f})"
        await self._tell_closed(risk, closing, OpsAlert("drawdown_breach", Severity.CRITICAL, what, _subject(risk.account_id), action))

    async def _close_leftovers(self, risk: AccountRisk) -> None:
        """A blocked account holds no orders or positions: cancel and close what a failed attempt or a
        crash left, or what an order placed just before the block has opened since."""
        closing = await self._close_out(risk.account_id)
        if not closing.closed and not closing.cancelled:
            await self._report_failures(risk.account_id, closing)
            return
        left = f"{counted(len(closing.cancelled), 'pending order')} and {counted(len(closing.closed), 'position')}"
        what = f"{left} were still open on a blocked account"
        await self._tell_closed(risk, closing, OpsAlert("drawdown_positions_closed", Severity.WARNING, what, _subject(risk.account_id), closing.summary()))

    async def _tell_closed(self, risk: AccountRisk, closing: _Closing, alert: OpsAlert) -> None:
        assert risk.drawdown is not None
        await self._notifier.drawdown(DrawdownNote(risk.account_id, True, risk.drawdown, self.cap, closing.closed, len(closing.cancelled)))
        await self._alerts.alert(alert)
        await self._report_failures(risk.account_id, closing)

    async def _close_out(self, account_id: str) -> _Closing:
        """Cancel the pending orders first, so none fills while the positions are being closed."""
        cancelled, failures = await self._cancel_pending(account_id)
        try:
            positions = await self._broker.positions(account_id)
        except Exception as exc:  # noqa: BLE001 - reported; the next check tries again
            return _Closing(cancelled, (), (*failures, f"listing the positions failed: {type(exc).__name__}: {exc}"))
        closed: list[Position] = []
        for position in positions:
            try:
                closed.append(await self._broker.close_position(position.id, CloseReason.DRAWDOWN))
            except TradeNotFound:
                continue  # closed meanwhile (its stop, its target, another worker): nothing left to do
            except Exception as exc:  # noqa: BLE001 - one failed close must not keep the others open
                log.exception("event=drawdown_close_failed account=%s position=%s", account_id, position.id)
                failures.append(f"position {position.id} ({position.instrument}): {type(exc).__name__}: {exc}")
        return _Closing(cancelled, tuple(closed), tuple(failures))

    async def _cancel_pending(self, account_id: str) -> tuple[tuple[str, ...], list[str]]:
        try:
            order_ids = await self._broker.pending_order_ids(account_id)
        except Exception as exc:  # noqa: BLE001 - reported; the next check tries again
            return (), [f"listing the pending orders failed: {type(exc).__name__}: {exc}"]
        cancelled: list[str] = []
        failures: list[str] = []
        for order_id in order_ids:
            try:
                await self._broker.cancel(order_id)
                cancelled.append(order_id)
            except (TradeNotFound, InvalidOrderTransition):
                continue  # filled or cancelled meanwhile: a fill is closed with the positions below
            except Exception as exc:  # noqa: BLE001 - one failed cancel must not keep the others pending
                log.exception("event=drawdown_cancel_failed account=%s order=%s", account_id, order_id)
                failures.append(f"pending order {order_id}: {type(exc).__name__}: {exc}")
        return tuple(cancelled), failures

    async def _report_failures(self, account_id: str, closing: _Closing) -> None:
        if not closing.failures:
            return
        await self._alerts.alert(OpsAlert(
            kind="drawdown_close_failed",
            severity=Severity.CRITICAL,
            what=f"could not close on a blocked account: {'; '.join(closing.failures)}",
            subject=_subject(account_id),
            action="new orders stay blocked; closing is retried on every heartbeat",
        ))

    async def _tell_allowed(self, risk: AccountRisk, kind: str, what: str, action: str) -> None:
        assert risk.drawdown is not None
        log.info("event=%s account=%s equity=%s peak=%s", kind, risk.account_id, risk.equity, risk.peak)
        await self._notifier.drawdown(DrawdownNote(risk.account_id, False, risk.drawdown, self.cap))
        await self._alerts.alert(OpsAlert(kind, Severity.INFO, what, _subject(risk.account_id), action))


def _subject(account_id: str) -> str:
    return f"account {account_id}"
