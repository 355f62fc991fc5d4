"""The heartbeat: every `scheduler.heartbeat_seconds` it runs the drawdown guard over every account (so a
breach closes positions within one beat), measures the desk into Prometheus, and overwrites its
`heartbeats` row so /status and the watchdog can tell how long ago it last ran."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from core.accounts import AccountMap
from core.clock import Clock
from core.drawdown import AccountRisk, DrawdownGuard
from core.health_watch import HEARTBEAT
from core.trading_ports import Broker
from storage.heartbeat_store import Beat, DeskTotals, SqlHeartbeats

log = logging.getLogger(__name__)


class HeartbeatMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"signaldesk_{name}", doc, labels, registry=registry)

        self.beats = Counter("signaldesk_heartbeats", "Heartbeat runs", registry=registry)
        self.errors = Counter("signaldesk_heartbeat_errors", "Failures during heartbeat runs", ["stage"], registry=registry)
        self.duration = gauge("heartbeat_duration_seconds", "How long the last heartbeat run took")
        self.last_beat = gauge("heartbeat_last_timestamp_seconds", "When the last heartbeat run ended (Unix time)")
        self.signals_processed = gauge("signals_processed", "Signals decided or expired, all time")
        self.orders_executed = gauge("orders_executed", "Approvals that became orders at the broker, all time")
        self.orders_failed = gauge("orders_failed", "Approvals the broker kept failing or rejected, all time")
        self.open_positions = gauge("open_positions", "Open positions per account", ("account",))
        self.equity = gauge("account_equity", "Equity per account (balance plus open positions marked to market)", ("account",))
        self.drawdown = gauge("account_drawdown_ratio", "Drawdown from the equity peak per account (0.2 is 20 %)", ("account",))
        self.blocked = gauge("account_blocked", "1 while the drawdown guard blocks new orders on the account", ("account",))


class Heartbeat:
    def __init__(
        self,
        guard: DrawdownGuard,
        broker: Broker,
        accounts: AccountMap,
        heartbeats: SqlHeartbeats,
        metrics: HeartbeatMetrics,
        clock: Clock,
        instance: str,
    ) -> None:
        self._guard = guard
        self._broker = broker
        self._accounts = accounts
        self._heartbeats = heartbeats
        self._metrics = metrics
        self._clock = clock
        self._instance = instance

    async def beat(self) -> None:
        """One run. Never raises: a failure is logged and counted, and the scheduler calls again next time."""
        started = self._clock.monotonic()
        errors = 0
        accounts: dict[str, dict[str, Any]] = {}
        for account_id in self._accounts.accounts():
            try:
                accounts[account_id] = await self._account(account_id)
            except Exception as exc:  # noqa: BLE001 - one account's broker trouble must not stop the others
                log.exception("event=heartbeat_account_failed account=%s", account_id)
                self._metrics.errors.labels("account").inc()
                errors += 1
                accounts[account_id] = {"error": f"{type(exc).__name__}: {exc}"}
        data: dict[str, Any] = {"accounts": accounts}
        try:
            data |= self._totals(await self._heartbeats.totals())
        except Exception:  # noqa: BLE001 - the database is down: the beat below fails too, and says so
            log.exception("event=heartbeat_totals_failed")
            self._metrics.errors.labels("totals").inc()
            errors += 1
        data["open_positions"] = sum(a.get("open_positions", 0) for a in accounts.values())
        data["errors"] = errors
        data["duration_seconds"] = round(self._clock.monotonic() - started, 6)
        await self._record(data)

    async def _account(self, account_id: str) -> dict[str, Any]:
        risk = await self._guard.check(account_id)  # acts first: a breach is closed before anything is measured
        open_positions = len(await self._broker.positions(account_id))
        self._metrics.open_positions.labels(account_id).set(open_positions)
        self._metrics.blocked.labels(account_id).set(int(risk.blocked))
        if risk.equity is not None and risk.drawdown is not None:
            self._metrics.equity.labels(account_id).set(float(risk.equity))
            self._metrics.drawdown.labels(account_id).set(float(risk.drawdown))
        return _account_data(risk, open_positions)

    def _totals(self, totals: DeskTotals) -> dict[str, int]:
        self._metrics.signals_processed.set(totals.signals_processed)
        self._metrics.orders_executed.set(totals.orders_executed)
        self._metrics.orders_failed.set(totals.orders_failed)
        return {
            "signals_processed": totals.signals_processed,
            "orders_executed": totals.orders_executed,
            "orders_failed": totals.orders_failed,
        }

    async def _record(self, data: dict[str, Any]) -> None:
        now = self._clock.now()
        self._metrics.beats.inc()
        self._metrics.duration.set(data["duration_seconds"])
        self._metrics.last_beat.set(now.timestamp())
        try:
            await self._heartbeats.record(Beat(HEARTBEAT, self._instance, now, data))
        except Exception:  # noqa: BLE001 - the watchdog notices the beat's age; the next run tries again
            log.exception("event=heartbeat_record_failed")
            self._metrics.errors.labels("record").inc()
            return
        log.info("event=heartbeat errors=%d open_positions=%d duration_s=%.3f", data["errors"], data["open_positions"], data["duration_seconds"])


def _account_data(risk: AccountRisk, open_positions: int) -> dict[str, Any]:
    """JSON-ready: money as exact strings."""
    return {
        "equity": str(risk.equity),
        "peak": str(risk.peak),
        "drawdown": str(risk.drawdown),
        "cap": str(risk.cap),
        "blocked": risk.blocked,
        "open_positions": open_positions,
    }
