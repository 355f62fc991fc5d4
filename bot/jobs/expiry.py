from __future__ import annotations

import logging

from bot.telegram.sender import OutboxSender
from core.approvals import ApprovalService

log = logging.getLogger(__name__)


async def close_approval_windows(approvals: ApprovalService, sender: OutboxSender) -> None:
    """Expire undecided signals past their approval window and queue the card edits that say so; end the
    life of approved and executed signals that nothing more can happen to (cancelled, closed)."""
    try:
        await approvals.expire_due()
        await approvals.settle_finished()
    except Exception:  # a failed run is retried by the next one; the scheduler must keep going
        log.exception("event=job_failed job=close_approval_windows")
        return
    sender.wake()
