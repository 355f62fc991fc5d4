"""The desk's APScheduler: built from its parts, never a module-level singleton."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.expiry import close_approval_windows
from bot.jobs.heartbeat import Heartbeat
from bot.telegram.sender import OutboxSender
from core.approvals import ApprovalService

EXPIRY_INTERVAL_SECONDS = 30


def build_scheduler(heartbeat: Heartbeat, heartbeat_seconds: float) -> AsyncIOScheduler:
    """The jobs that run with or without Telegram (trading goes on, and is guarded, either way)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(heartbeat.beat, "interval", seconds=heartbeat_seconds, id="heartbeat", max_instances=1, coalesce=True)
    return scheduler


def add_approval_expiry(scheduler: AsyncIOScheduler, approvals: ApprovalService, sender: OutboxSender) -> None:
    scheduler.add_job(
        close_approval_windows, "interval", seconds=EXPIRY_INTERVAL_SECONDS, args=[approvals, sender],
        id="close-approval-windows", max_instances=1, coalesce=True,
    )
