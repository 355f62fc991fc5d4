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
