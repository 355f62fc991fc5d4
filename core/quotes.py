"""Quotes, and the guard every quote passes before anything trades on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.clock import Clock


@dataclass(frozen=True)
class Quote:
    instrument: str
    bid: Decimal
    ask: Decimal
    time: datetime  # timezone-aware UTC

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


class QuoteProblem(enum.StrEnum):
    """Why a quote was refused; stable values, usable as metric labels."""

    NOT_FINITE = "not_finite"
    NON_POSITIVE = "non_positive"
    CROSSED = "crossed"
    NAIVE_TIME = "naive_time"
    FUTURE = "future"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE = "duplicate"
    JUMP = "jump"


@dataclass(frozen=True)
class QuoteVerdict:
    problem: QuoteProblem | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.problem is None


ACCEPTED = QuoteVerdict()


class QuoteGuard:
    """Accepts a quote only when it is sane on its own and against the last accepted quote of its instrument.

    A refused quote never becomes the reference, so one bad tick cannot poison the next good ones. Quotes
    dated too far ahead are refused for the same reason: accepted, they would make every honest quote
    after them look out of order."""

    def __init__(self, clock: Clock, *, max_jump_ratio: Decimal = Decimal(10), max_future_skew: timedelta) -> None:
        if max_jump_ratio <= 1:
            raise ValueError("max_jump_ratio must be greater than 1")
        self._clock = clock
        self._max_jump_ratio = max_jump_ratio
        self._max_future_skew = max_future_skew
        self._last: dict[str, Quote] = {}

    def knows(self, instrument: str) -> bool:
        """Whether the guard holds a reference quote for `instrument`."""
        return instrument in self._last

    def remember(self, quote: Quote) -> None:
        """Take `quote` as its instrument's reference without judging it: the last quote stored, read back
        after a restart (or after a failed write), so the guard judges against what the store holds."""
        self._last[quote.instrument] = quote

    def forget(self, instrument: str) -> None:
        self._last.pop(instrument, None)

    def check(self, quote: Quote) -> QuoteVerdict:
        """Judge `quote`; when it is accepted it becomes the instrument's reference for the next one."""
        verdict = self._judge(quote)
        if verdict.accepted:
            self._last[quote.instrument] = quote
        return verdict

    def _judge(self, quote: Quote) -> QuoteVerdict:
        if not (quote.bid.is_finite() and quote.ask.is_finite()):
            return QuoteVerdict(QuoteProblem.NOT_FINITE, f"bid {quote.bid} / ask {quote.ask} is not a finite number")
        if quote.bid <= 0 or quote.ask <= 0:
            return QuoteVerdict(QuoteProblem.NON_POSITIVE, f"bid {quote.bid} / ask {quote.ask} must both be positive")
        if quote.bid > quote.ask:
            return QuoteVerdict(QuoteProblem.CROSSED, f"bid {quote.bid} is above ask {quote.ask}")
        if quote.time.utcoffset() is None:
            return QuoteVerdict(QuoteProblem.NAIVE_TIME, "time has no timezone")
        latest_allowed = self._clock.now() + self._max_future_skew
        if quote.time > latest_allowed:
            return QuoteVerdict(QuoteProblem.FUTURE, f"time {quote.time.isoformat()} is ahead of the clock")
        last = self._last.get(quote.instrument)
        if last is None:
            return ACCEPTED
        if quote.time < last.time:
            return QuoteVerdict(
                QuoteProblem.OUT_OF_ORDER,
                f"time {quote.time.isoformat()} is older than the last quote ({last.time.isoformat()})",
            )
        if quote == last:
            return QuoteVerdict(QuoteProblem.DUPLICATE, f"same as the last quote at {last.time.isoformat()}")
        ratio = quote.mid / last.mid
        if ratio > self._max_jump_ratio or ratio < 1 / self._max_jump_ratio:
            return QuoteVerdict(
                QuoteProblem.JUMP, f"mid {quote.mid} is {float(ratio):.4g}x the last mid {last.mid}; refusing an absurd jump"
            )
        return ACCEPTED
