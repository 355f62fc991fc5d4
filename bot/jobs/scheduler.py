"""The desk's APScheduler: built from its parts, never a module-level singleton."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.expiry import close_approval_windows
from bot.jobs.execution import ExecutionDriver
from bot.jobs.heartbeat import Heartbeat
from bot.jobs.leader import leader_only
from bot.telegram.sender import OutboxSender
from core.approvals import ApprovalService
from core.leadership import Leadership

EXPIRY_INTERVAL_SECONDS = 30


def build_scheduler(heartbeat: Heartbeat, heartbeat_seconds: float, leadership: Leadership) -> AsyncIOScheduler:
    """The jobs that run with or without Telegram (trading goes on, and is guarded, either way). The
    heartbeat (with the drawdown guard) runs on the job lease's holder only: one guard acts on a breach."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(leader_only(leadership, heartbeat.beat), "interval", seconds=heartbeat_seconds, id="heartbeat", max_instances=1, coalesce=True)
    return scheduler


def add_approval_expiry(scheduler: AsyncIOScheduler, approvals: ApprovalService, sender: OutboxSender, leadership: Leadership) -> None:
    """On the job lease's holder only: one instance expiring is enough, and its sender sends the edits."""
    scheduler.add_job(
        leader_only(leadership, lambda: close_approval_windows(approvals, sender)), "interval", seconds=EXPIRY_INTERVAL_SECONDS,
        id="close-approval-windows", max_instances=1, coalesce=True,
    )


def add_execution(scheduler: AsyncIOScheduler, execution: ExecutionDriver, interval_seconds: float) -> None:
    """The periodic sweep: approvals a trigger missed, retries that fell due, claims of workers that died.
    It only starts a drain; the driver owns it (and cancels it on shutdown)."""
    scheduler.add_job(execution.sweep, "interval", seconds=interval_seconds, id="execution", max_instances=1, coalesce=True)
