"""Producer endpoints: thin handlers that read, authenticate, call the ingest service and render."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.http.deps import DEPS, HttpDeps
from bot.http.problems import HttpProblem
from bot.http.signed_request import read_bounded_body, require_json, signed_request
from core.errors import SignalNotFound
from core.signals import Signal, SignalStatus

MAX_PAGE = 200
DEFAULT_PAGE = 50
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
_CURSOR = re.compile(r"[0-9a-f-]{36}")
_ENCODER = json.JSONEncoder(check_circular=False)
_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]  # the C one json.dumps uses
_JSON = "application/json"


def signal_json(signal: Signal) -> dict[str, Any]:
    return {
        "id": signal.id,
        "producer_id": signal.producer_id,
        "status": signal.status.value,
        "instrument": signal.instrument,
        "side": signal.side.value,
        "price": _number(signal.price),
        "stop_loss": _number(signal.stop_loss),
        "take_profit": _number(signal.take_profit),
        "time": _rfc3339(signal.time),
        "version": signal.version,
        "external_id": signal.external_id,
        "payload": signal.payload,
        "created_at": _rfc3339(signal.created_at),
        "updated_at": _rfc3339(signal.updated_at),
    }


def signal_body(signal: Signal) -> bytes:
    """`signal_json(signal)` as JSON bytes, written directly: every accepted signal is answered with it."""
    external_id = "null" if signal.external_id is None else _string(signal.external_id)
    payload = "null" if signal.payload is None else _ENCODER.encode(signal.payload)
    created = _rfc3339(signal.created_at)
    updated = created if signal.updated_at == signal.created_at else _rfc3339(signal.updated_at)
    # status and side are StrEnums: they format as their values, and those never need escaping.
    return (
        f'{{"id":{_string(signal.id)},"producer_id":{_string(signal.producer_id)},"status":"{signal.status}",'
        f'"instrument":{_string(signal.instrument)},"side":"{signal.side}","price":{_number(signal.price)!r},'
        f'"stop_loss":{_number(signal.stop_loss)!r},"take_profit":{_number(signal.take_profit)!r},'
        f'"time":"{_rfc3339(signal.time)}","version":{signal.version!r},"external_id":{external_id},"payload":{payload},'
        f'"created_at":"{created}","updated_at":"{updated}"}}'
    ).encode()


def signal_response(signal: Signal, status: int = 200, *, with_location: bool = False) -> web.Response:
    headers = {"Location": f"/api/v1/signals/{signal.id}"} if with_location else None
    return web.Response(body=signal_body(signal), status=status, headers=headers, content_type=_JSON, charset="utf-8")


async def post_signal(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    started = deps.clock.monotonic()
    require_json(request)
    body = await read_bounded_body(request, deps.max_body_bytes)
    producer_id = _authenticate(deps, request, body)
    headers = request.headers
    key = headers.get("X-Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise HttpProblem(400, "bad-idempotency-key", "Bad idempotency key", "X-Idempotency-Key must be 1 to 128 visible ASCII characters")
    result = await deps.ingest.submit(producer_id, body, idempotency_key=key, signature=headers.get("X-Signature"))
    signal = result.signal
    if result.created:
        deps.metrics.ingested.labels(signal.instrument, signal.side.value).inc()
        deps.metrics.ingest_seconds.observe(deps.clock.monotonic() - started)
    return signal_response(signal, 201 if result.created else 200, with_location=True)


async def get_signal(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    producer_id = _authenticate(deps, request, await read_bounded_body(request, deps.max_body_bytes))
    signal_id = request.match_info["signal_id"]
    signal = await deps.store.get(signal_id) if _CURSOR.fullmatch(signal_id) else None
    if signal is None or signal.producer_id != producer_id:
        # Another producer's signal is reported exactly like a missing one: ids reveal nothing.
        raise SignalNotFound(f"no signal {signal_id[:64]!r} for producer {producer_id!r}")
    return signal_response(signal)


async def list_signals(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    producer_id = _authenticate(deps, request, await read_bounded_body(request, deps.max_body_bytes))
    query = request.rel_url.query
    errors: list[dict[str, str]] = []
    unknown = sorted(set(query) - {"status", "instrument", "limit", "cursor"})
    errors += [{"field": f"query.{name}", "reason": "unknown parameter"} for name in unknown]
    status = _parse(query.get("status"), SignalStatus, "status", f"one of {', '.join(s.value for s in SignalStatus)}", errors)
    limit = _parse(query.get("limit"), int, "limit", f"a whole number from 1 to {MAX_PAGE}", errors, DEFAULT_PAGE)
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        errors.append({"field": "query.limit", "reason": f"must be a whole number from 1 to {MAX_PAGE}"})
    cursor = query.get("cursor")
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        errors.append({"field": "query.cursor", "reason": "must be the next_cursor of a previous page"})
    if errors:
        raise HttpProblem(422, "invalid-query", "Invalid query", "; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors)
    page = await deps.store.list(
        producer_id, status=status, instrument=query.get("instrument"), limit=limit or DEFAULT_PAGE, cursor=cursor
    )
    next_cursor = "null" if page.next_cursor is None else _string(page.next_cursor)
    body = b'{"signals":[' + b",".join(signal_body(s) for s in page.signals) + b'],"next_cursor":' + next_cursor.encode() + b"}"
    return web.Response(body=body, content_type=_JSON, charset="utf-8")


def _authenticate(deps: HttpDeps, request: web.Request, body: bytes) -> str:
    producer_id = deps.authenticator.authenticate(signed_request(request, body))
    deps.rate_limiter.acquire(producer_id)
    return producer_id


def _parse(raw: str | None, kind: Any, name: str, expected: str, errors: list[dict[str, str]], default: Any = None) -> Any:
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        errors.append({"field": f"query.{name}", "reason": f"must be {expected}"})
        return None


def _number(value: Decimal) -> float | int:
    # float() of a price with at most 15 significant digits prints back exactly (shortest repr).
    return int(value) if value == value.to_integral_value() else float(value)


def _rfc3339(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")
