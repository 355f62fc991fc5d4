"""Ops alerts in the log: every alert the gate lets out is logged, and it is all there is without Telegram."""

from __future__ import annotations

import logging

from core.alert_gate import AlertGate, GatedAlert
from core.notify import OpsAlert, Severity

log = logging.getLogger("signaldesk.ops_alerts")
_LEVEL = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING, Severity.CRITICAL: logging.ERROR}


def log_alert(gated: GatedAlert) -> None:
    a = gated.alert
    log.log(
        _LEVEL[a.severity], "event=ops_alert kind=%s severity=%s subject=%r what=%r action=%r suppressed=%d",
        a.kind, a.severity.value, a.subject, a.what, a.action, gated.suppressed,
        extra={"ops_alert": a},  # /status shows it as an alert rather than as this line (bot.recent_errors)
    )


def log_suppressed(alert: OpsAlert) -> None:
    log.info("event=ops_alert_suppressed kind=%s subject=%r", alert.kind, alert.subject)


class LogOpsAlerts:
    """The OpsAlerts port when Telegram is off: gated the same way, so an outage does not flood the log either."""

    def __init__(self, gate: AlertGate) -> None:
        self._gate = gate

    async def alert(self, alert: OpsAlert) -> None:
        gated = self._gate.admit(alert)
        if gated is None:
            log_suppressed(alert)
        else:
            log_alert(gated)
