"""RFC 9457 problem+json responses, and the translation of domain errors into them (the only place)."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from aiohttp import web

from core.errors import (
    AuthenticationFailed,
    DuplicateSignal,
    IdempotencyConflict,
    InvalidQuotes,
    InvalidSignal,
    MalformedBody,
    RateLimited,
    SignalDeskError,
    SignalNotFound,
    StorageUnavailable,
    TooManyQuotes,
)

log = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"
STORAGE_RETRY_AFTER_SECONDS = 5


class HttpProblem(Exception):
    """An edge-level refusal (no domain meaning): wrong content type, body too large, bad query."""

    def __init__(self, status: int, slug: str, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        self.status, self.slug, self.title, self.detail, self.errors = status, slug, title, detail, errors
        super().__init__(detail)


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail, **extra}
    if errors is not None:
        body["errors"] = errors
    return web.Response(
        status=status, text=json.dumps(body), content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def translate(error: SignalDeskError | HttpProblem) -> tuple[str, web.Response]:
    """The metric reason and the problem response for an error raised while handling a request."""
    match error:
        case HttpProblem():
            return error.slug, problem_response(error.status, error.slug, error.title, error.detail, errors=error.errors)
        case AuthenticationFailed():
            return error.reason, problem_response(401, error.reason.replace("_", "-"), "Unauthorized", str(error))
        case MalformedBody():
            return "malformed_body", problem_response(400, "malformed-body", "Malformed body", str(error))
        case InvalidSignal():
            errors = [{"field": p.field, "reason": p.reason} for p in error.problems]
            detail = "; ".join(f"{p.field}: {p.reason}" for p in error.problems)
            return "invalid_signal", problem_response(422, "invalid-signal", "Invalid signal", detail, errors=errors)
        case InvalidQuotes():
            errors = [{"field": p.field, "reason": p.reason} for p in error.problems]
            return "invalid_quotes", problem_response(422, "invalid-quotes", "Invalid quotes", str(error), errors=errors)
        case TooManyQuotes():
            return "too_many_quotes", problem_response(413, "too-many-quotes", "Too many quotes", str(error))
        case DuplicateSignal():
            return "duplicate", problem_response(
                409, "duplicate-signal", "Duplicate signal", str(error), existing_signal_id=error.existing_id
            )
        case IdempotencyConflict():
            return "idempotency_conflict", problem_response(
                409, "idempotency-key-reused", "Idempotency key reused", str(error), existing_signal_id=error.existing_id
            )
        case RateLimited():
            retry_after = str(max(1, math.ceil(error.retry_after_seconds)))
            return "rate_limited", problem_response(
                429, "rate-limited", "Too many requests", str(error), headers={"Retry-After": retry_after}
            )
        case StorageUnavailable():
            return "storage_unavailable", problem_response(
                503, "storage-unavailable", "Service unavailable",
                f"{error}; retry later", headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
            )
        case SignalNotFound():
            return "not_found", problem_response(404, "not-found", "Not found", str(error))
        case _:
            log.error("event=untranslated_error error=%s", type(error).__name__)
            return "internal", problem_response(500, "internal", "Internal error", "unexpected error")
