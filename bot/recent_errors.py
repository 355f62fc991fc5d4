"""The last few ERROR log records, kept in memory for /status (installed by the composition root)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

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
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message += f" ({record.exc_info[0].__name__})"
        self._records.append(LoggedError(datetime.fromtimestamp(record.created, UTC), record.name, message[:MAX_MESSAGE_CHARS]))

    def latest(self) -> list[LoggedError]:
        """Newest first."""
        return list(reversed(self._records))


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
