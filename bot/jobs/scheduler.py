"""The desk's APScheduler: built from its parts, never a module-level singleton."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.expiry import close_approval_windows
from bot.telegram.sender import OutboxSender
from core.approvals import ApprovalService

EXPIRY_INTERVAL_SECONDS = 30


def build_scheduler(approvals: ApprovalService, sender: OutboxSender) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        close_approval_windows, "interval", seconds=EXPIRY_INTERVAL_SECONDS, args=[approvals, sender],
        id="close-approval-windows", max_instances=1, coalesce=True,
    )
    return scheduler
