"""The domain's error hierarchy. Core services raise these; the edges translate them
(HTTP problem+json, Telegram callback answers, CLI messages)."""

from __future__ import annotations

from dataclasses import dataclass


class SignalDeskError(Exception):
    """Base of every error the domain raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class AuthenticationFailed(SignalDeskError):
    """The request could not be attributed to a producer (missing header, unknown producer, bad signature, stale)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason  # one of AuthReason
        super().__init__(detail)


class InvalidSignal(SignalDeskError):
    """Valid JSON that breaks field rules or order constraints."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


class DuplicateSignal(SignalDeskError):
    def __init__(self, reason: str, existing_id: str) -> None:
        self.reason = reason
        self.existing_id = existing_id
        super().__init__(f"{reason}; existing signal {existing_id}")


class IdempotencyConflict(SignalDeskError):
    """The same idempotency key was used before with a different body."""

    def __init__(self, existing_id: str) -> None:
        self.existing_id = existing_id
        super().__init__(f"X-Idempotency-Key was already used for signal {existing_id} with a different body")


class RateLimited(SignalDeskError):
    def __init__(self, retry_after_seconds: float) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"rate limit exceeded; retry after {retry_after_seconds:.1f} s")


class StorageUnavailable(SignalDeskError):
    """The database cannot be reached; nothing was written."""


class SignalNotFound(SignalDeskError):
    pass


class MalformedBody(SignalDeskError):
    """The body is not JSON, or not a JSON object."""


class AuthReason:
    """Machine-readable causes of AuthenticationFailed, used as metric labels."""

    MISSING_HEADER = "missing_header"
    UNKNOWN_PRODUCER = "unknown_producer"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"


class NotAuthorized(SignalDeskError):
    """The user may not do this (not a trader, not an admin)."""


class AlreadyDecided(SignalDeskError):
    def __init__(self, decision: str) -> None:
        self.decision = decision
        super().__init__(f"already decided: {decision}")


class DecisionClosed(SignalDeskError):
    """The signal can no longer be decided (expired, or its status moved on)."""


class OrderRefused(SignalDeskError):
    """No order can be built for this signal on this account under the rules (stop, reward:risk, size)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


class ExecutionRefused(SignalDeskError):
    """The current quote no longer fits the order; `reason` is "past_stop" or "slippage"."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class NoQuote(SignalDeskError):
    """No quote has been seen for the instrument yet: the order has to wait."""

    def __init__(self, instrument: str) -> None:
        self.instrument = instrument
        super().__init__(f"no quote for {instrument} yet")


class InvalidOrderTransition(SignalDeskError):
    def __init__(self, order_id: str, current: str, target: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} cannot go from {current} to {target}")


class TradeNotFound(SignalDeskError):
    """No such order or position (or not one of ours)."""


class BrokerError(SignalDeskError):
    """The broker did not do what was asked. `retryable`: trying again later is safe and may succeed."""

    def __init__(self, detail: str, *, code: int | None = None, retryable: bool = False) -> None:
        self.code = code
        self.retryable = retryable
        super().__init__(detail)


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or gave no answer. Placing again is safe: the idempotency key
    finds an order that did get through instead of sending a second one."""

    def __init__(self, detail: str, *, code: int | None = None) -> None:
        super().__init__(detail, code=code, retryable=True)


class BrokerRejected(BrokerError):
    """The broker answered and refused the request."""


class PriceDataError(SignalDeskError):
    """A price file or price row cannot be read."""


class InvalidQuotes(SignalDeskError):
    """A quotes body whose shape is wrong: the whole request is refused and nothing is judged or stored."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


class TooManyQuotes(SignalDeskError):
    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"{count} quotes in one request; at most {limit} (quotes.max_per_request)")
