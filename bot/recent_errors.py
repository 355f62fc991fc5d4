"""The last few ERROR log records, kept in memory for /status (installed by the composition root). A
critical ops alert is kept as the alert reads, not as its log line."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from core.notify import OpsAlert

MAX_MESSAGE_CHARS = 200


@dataclass(frozen=True)
class LoggedError:
    at: datetime
    logger: str
    message: str


class RecentErrors(logging.Handler):
    def __init__(self, keep: int = 5) -> None:
        super().__init__(level=logging.ERROR)
        self._records: deque[LoggedError] = deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        source, message = _described(record)
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        self._records.append(LoggedError(datetime.fromtimestamp(record.created, UTC), source, message))

    def latest(self) -> list[LoggedError]:
        """Newest first."""
        return list(reversed(self._records))


def _described(record: logging.LogRecord) -> tuple[str, str]:
    alert = getattr(record, "ops_alert", None)
    if isinstance(alert, OpsAlert):
        subject = f"{alert.subject}: " if alert.subject else ""
        return f"ops alert {alert.kind}", f"{subject}{alert.what}; {alert.action}"
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not break logging
        message = str(record.msg)
    if record.exc_info and record.exc_info[0] is not None:
        message += f" ({record.exc_info[0].__name__})"
    return record.name, message


@contextmanager
def keeping_recent_errors(keep: int = 5, filters: Iterable[logging.Filter] = ()) -> Iterator[RecentErrors]:
    """Attach to the root logger for the block's duration; `filters` mask secrets before /status shows a record."""
    handler = RecentErrors(keep)
    for log_filter in filters:
        handler.addFilter(log_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
