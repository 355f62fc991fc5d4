"""Deduplication and rate limiting of ops alerts, so an outage tells ops once instead of flooding the chat.

- Per key (`OpsAlert.key`): the first alert goes out; repeats within `window` are suppressed and counted;
  the next one that goes out carries that count.
- Globally: at most `max_per_window` alerts go out within any `window`; the one that reaches the cap says
  so, and later ones are counted against their key until room frees up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from core.clock import Clock
from core.notify import OpsAlert


@dataclass(frozen=True)
class AlertPolicy:
    window_seconds: float = 300
    max_per_window: int = 20


@dataclass(frozen=True)
class GatedAlert:
    """An alert allowed out, with what the gate held back before it."""

    alert: OpsAlert
    suppressed: int  # repeats of this key suppressed since the last one that went out
    cap_reached: bool  # this is the last alert the global cap lets out for now


@dataclass
class _KeyState:
    last_sent: float
    suppressed: int = 0


class AlertGate:
    def __init__(self, policy: AlertPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}
        self._sent: deque[float] = deque()  # monotonic times of alerts let out within the window

    def admit(self, alert: OpsAlert) -> GatedAlert | None:
        """The alert to deliver, or None when it is a repeat (or over the cap) and was counted instead."""
        now = self._clock.monotonic()
        self._forget_before(now - self._policy.window_seconds)
        state = self._keys.get(alert.key)
        if state is not None and now - state.last_sent < self._policy.window_seconds:
            state.suppressed += 1
            return None
        if len(self._sent) >= self._policy.max_per_window:
            # Counted, not lost: the key's next alert that gets out reports it.
            if state is None:
                self._keys[alert.key] = state = _KeyState(last_sent=float("-inf"))
            state.suppressed += 1
            return None
        suppressed = state.suppressed if state else 0
        self._keys[alert.key] = _KeyState(last_sent=now)
        self._sent.append(now)
        return GatedAlert(alert, suppressed, cap_reached=len(self._sent) == self._policy.max_per_window)

    def _forget_before(self, horizon: float) -> None:
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        # Keys with nothing left to report need no memory (subjects may come from outside, e.g. producer ids).
        stale = [key for key, state in self._keys.items() if state.last_sent <= horizon and not state.suppressed]
        for key in stale:
            del self._keys[key]
