"""The bot's queue of unconfirmed updates, shared by getUpdates and the webhook pusher."""

from __future__ import annotations

from bot.emulator.changes import ChangeSignal
from bot.emulator.model import JsonObject


class UpdateQueue:
    def __init__(self, changes: ChangeSignal) -> None:
        self._changes = changes
        self._pending: list[JsonObject] = []
        self._next_id = 1
        # None is Telegram's default set, which includes every kind the emulator produces.
        self._allowed: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def allowed_updates(self) -> list[str] | None:
        return sorted(self._allowed) if self._allowed is not None else None

    def set_allowed(self, kinds: list[str]) -> None:
        """Like Telegram, the filter applies to updates created from now on; [] means default."""
        self._allowed = frozenset(kinds) or None

    def push(self, kind: str, payload: JsonObject) -> int | None:
        """Queue an update; None when the bot's allowed_updates filter drops it."""
        if self._allowed is not None and kind not in self._allowed:
            return None
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, kind: payload})
        self._changes.notify()
        return update_id

    def confirm(self, offset: int) -> None:
        """Forget updates below a positive offset; a negative one keeps only the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._changes.notify()  # waiters may be watching deliveries

    def peek(self, limit: int) -> list[JsonObject]:
        return self._pending[:limit]

    def clear(self) -> None:
        self._pending.clear()
        self._changes.notify()
