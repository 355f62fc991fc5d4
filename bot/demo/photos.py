"""Keeping the photos the bot sent (the charts) as files a user can open."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.emulator.model import SentMessage

Fetch = Callable[[str], Awaitable[bytes]]


class PhotoShelf:
    """Writes each photo once (a chart sent to several chats is one upload), named by `label` and the first
    line of its caption, e.g. `03-eurusd-buy.png`."""

    def __init__(self, folder: Path, fetch: Fetch, label: Callable[[SentMessage, int], str]) -> None:
        self.folder = folder
        self._fetch = fetch
        self._label = label
        self._kept: dict[str, Path] = {}

    @property
    def kept(self) -> list[Path]:
        return list(self._kept.values())

    async def keep(self, message: SentMessage) -> Path | None:
        file_id = message.photo_file_id
        if file_id is None:
            return None
        if file_id not in self._kept:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{self._label(message, len(self._kept) + 1)}-{slug(message.text or 'chart')}.png"
            path.write_bytes(await self._fetch(file_id))
            self._kept[file_id] = path.resolve()
        return self._kept[file_id]


def slug(caption: str) -> str:
    """`EURUSD · BUY` → `eurusd-buy`; `PnL per closed trade · tg-1001 · 2 trade(s)` → `pnl-per-closed-trade-tg-1001`."""
    first = caption.splitlines()[0] if caption else ""
    words = " ".join(first.split(" · ")[:2])
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:40] or "chart"
