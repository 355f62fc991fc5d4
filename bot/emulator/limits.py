"""Telegram's flood limits, simulated on an emulated clock.

Telegram allows about 30 messages per second overall and about one per second in a chat; past
that it answers 429 with an integer ``retry_after`` in seconds. Tests cannot wait real seconds,
so the limiter runs on an :class:`EmulatedClock` that a ``speedup`` factor makes tick faster:
with ``speedup=10`` an emulated second lasts 0.1 s, the per-chat limit admits 10 sends per real
second, and ``retry_after`` stays an integer of emulated seconds (a client that scales it by the
same factor waits long enough).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.emulator.errors import too_many_requests


@dataclass(frozen=True)
class RateLimits:
    """Messages per emulated second; ``None`` switches a limit off."""

    global_per_second: float | None = 30.0
    per_chat_per_second: float | None = 1.0
    speedup: float = 1.0

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(global_per_second=None, per_chat_per_second=None)

    def __post_init__(self) -> None:
        for rate in (self.global_per_second, self.per_chat_per_second, self.speedup):
            if rate is not None and rate <= 0:
                raise ValueError("rates and speedup must be positive")


class EmulatedClock:
    """Monotonic seconds that run ``speedup`` times faster than real time.

    Changing the speedup rebases the clock so emulated time never jumps.
    """

    def __init__(self, speedup: float = 1.0, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._speedup = speedup
        self._real_base = source()
        self._emulated_base = 0.0

    @property
    def speedup(self) -> float:
        return self._speedup

    def now(self) -> float:
        return self._emulated_base + (self._source() - self._real_base) * self._speedup

    def set_speedup(self, speedup: float) -> None:
        self._emulated_base = self.now()
        self._real_base = self._source()
        self._speedup = speedup


@dataclass(frozen=True)
class SendRecord:
    """One accepted send or edit, at emulated time ``at``."""

    at: float
    chat_id: int
    method: str


class _Window:
    """A sliding window admitting ``capacity`` events per ``length`` emulated seconds.

    A rate below one per second becomes one event per 1/rate seconds, so fractional rates
    keep their meaning.
    """

    def __init__(self, rate: float) -> None:
        self.capacity = max(1, math.floor(rate))
        self.length = self.capacity / rate
        self._times: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        while self._times and self._times[0] <= now - self.length:
            self._times.popleft()
        if len(self._times) < self.capacity:
            return 0.0
        return self._times[0] + self.length - now

    def record(self, now: float) -> None:
        self._times.append(now)


@dataclass
class SendStats:
    """What the limiter saw: how many 429s it sent and every send it accepted."""

    too_many_requests: int = 0
    sends: list[SendRecord] = field(default_factory=list)

    def peak(self, window_seconds: float = 1.0, chat_id: int | None = None) -> int:
        """The most accepted sends in any ``window_seconds`` (emulated) span, for rate asserts."""
        times = [r.at for r in self.sends if chat_id is None or r.chat_id == chat_id]
        return max(
            (i + 1 - bisect_right(times, t - window_seconds, hi=i) for i, t in enumerate(times)),
            default=0,
        )


class SendLimiter:
    """Admits or refuses (429) each send; counts refusals and logs admissions."""

    def __init__(self, limits: RateLimits, clock: EmulatedClock | None = None) -> None:
        self.clock = clock or EmulatedClock(limits.speedup)
        self.stats = SendStats()
        self.configure(limits)

    def configure(self, limits: RateLimits) -> None:
        self.limits = limits
        self.clock.set_speedup(limits.speedup)
        self._global = _Window(limits.global_per_second) if limits.global_per_second else None
        self._per_chat: defaultdict[int, _Window] | None = None
        if limits.per_chat_per_second:
            rate = limits.per_chat_per_second
            self._per_chat = defaultdict(lambda: _Window(rate))

    def admit(self, chat_id: int, method: str) -> None:
        """Record the send, or raise 429 with the whole emulated seconds until it would pass."""
        now = self.clock.now()
        windows = [w for w in (self._global, self._chat_window(chat_id)) if w is not None]
        wait = max((w.wait_needed(now) for w in windows), default=0.0)
        if wait > 0:
            self.stats.too_many_requests += 1
            raise too_many_requests(max(1, math.ceil(wait)))
        for window in windows:
            window.record(now)
        self.stats.sends.append(SendRecord(at=now, chat_id=chat_id, method=method))

    def _chat_window(self, chat_id: int) -> _Window | None:
        return self._per_chat[chat_id] if self._per_chat is not None else None
