"""Rendered charts by key, with a time to live and a size bound, and the Telegram upload of each."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from charts.model import RenderedChart


@dataclass(slots=True)
class _Entry:
    chart: RenderedChart
    expires_at: float
    upload: str | None = None


class ChartCache:
    """LRU cache of rendered charts whose entries expire `ttl_seconds` after they were stored
    (0: nothing is served from the cache, identical requests in flight still share one render).

    Besides the PNG, an entry can hold an opaque upload token (Telegram's `file_id`), so a chart sent to
    many chats is uploaded once and then sent by reference. The token lives and expires with the entry.
    `clock` returns monotonic seconds; tests pass a fake one. Not thread-safe: use it from the event loop.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 300.0,
        max_entries: int = 128,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 0 or max_entries < 1:
            raise ValueError("ttl_seconds must not be negative and max_entries must be at least 1")
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> RenderedChart | None:
        entry = self._live(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.chart

    def put(self, key: str, chart: RenderedChart) -> None:
        self._entries[key] = _Entry(chart, self._clock() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def remember_upload(self, key: str, token: str) -> None:
        """Keep the upload token for a cached chart; ignored once the chart has expired or been evicted."""
        entry = self._live(key)
        if entry is not None:
            entry.upload = token

    def upload_for(self, key: str) -> str | None:
        entry = self._live(key)
        return entry.upload if entry is not None else None

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        return entry
