"""Fuzzing the producer API from its own OpenAPI document with schemathesis, over real HTTP to the real app.

Schemathesis generates each operation's requests (valid and schema-breaking bodies, query strings, path
ids, headers); we then sign them the way a producer would, correctly (so what gets fuzzed is the body, not
the signature check) or wrongly in one of several ways, send them, and hold every answer to the document:
a documented status, problem+json with type/title/status/detail for refusals, 2xx bodies matching their
schemas, never a 5xx, and never a 2xx for a request that was not signed right."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Api
from tests.reliability.conftest import Figures
from tests.support import PRODUCER_ID, SECRET, SignedHeaders, rfc3339, signal_body
from tests.tradingview.tv_alerts import TOKEN, tv_settings

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ACCEPTED = (200, 201, 202)


class Signing(enum.Enum):
    VALID = "valid"  # signed over exactly what is sent
    TAMPERED = "tampered"  # signed, then the body (or, without one, the query) changed on the way
    WRONG_SECRET = "wrong secret"
    STALE = "stale"  # signed right, with a timestamp outside the allowed skew
    AS_GENERATED = "as generated"  # the fuzzer's own X-Producer-Id / X-Timestamp / X-Signature, or none


@dataclass
class Target:
    api: Api
    schema: Any  # schemathesis' schema, loaded from the served document
    http: requests.Session
    signal_ids: list[str] = field(default_factory=list)  # ids of signals the fuzzing created, to read back


@pytest.fixture
async def target(api_factory: Any, database_url: str) -> AsyncIterator[Target]:
    # No rate limit: hundreds of requests on a clock that does not move would all be 429 otherwise.
    api = await api_factory(tv_settings(database_url, signals={"rate_per_second": 0}))
    with requests.Session() as http:
        document = await asyncio.to_thread(lambda: http.get(api.base_url + "/api/v1/openapi.json", timeout=10).json())
        target = Target(api, schemathesis.openapi.from_dict(document), http)
        status, _, created = await api.post_signal(signal_body(external_id="seed"))
        assert status == 201, created
        target.signal_ids.append(created["id"])
        yield target


OPERATIONS = [
    ("POST", "/api/v1/signals"),
    ("GET", "/api/v1/signals"),
    ("GET", "/api/v1/signals/{signal_id}"),
    ("POST", "/api/v1/quotes"),
    ("POST", "/api/v1/tradingview/{producer_id}"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
async def test_every_answer_matches_the_document(
    target: Target, figures: Figures, method: str, path: str, data: st.DataObject
) -> None:
    operation = target.schema[path][method]
    mode = data.draw(st.sampled_from(schemathesis.GenerationMode), label="generation")
    overrides = _path_overrides(target, path, data) | _body_override(target, method, path, mode, data)
    case = data.draw(operation.as_strategy(generation_mode=mode, **overrides), label="case")
    signing = Signing.VALID if path.startswith("/api/v1/tradingview/") else data.draw(st.sampled_from(Signing), label="signing")
    prepared = _prepared(case, target, signing, data)

    response = await asyncio.to_thread(target.http.send, prepared, timeout=10)
    figures.requests_fuzzed += 1
    figures.server_errors += response.status_code >= 500

    case.validate_response(response, checks=CONFORMANCE + _rejection_checks(case, path, signing))
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        assert response.json()["status"] == response.status_code
    elif response.status_code in ACCEPTED and path == "/api/v1/signals" and method == "POST":
        target.signal_ids.append(response.json()["id"])
    if not _signed_right(path, signing):
        assert response.status_code not in ACCEPTED, f"accepted a request signed {signing.value}"


def _rejection_checks(case: Any, path: str, signing: Signing) -> list[Any]:
    """A body, query or path id that breaks the schema must be refused, when nothing else is wrong: the
    request is signed right and the headers it broke (if any) were replaced by the signing."""
    negated = {location for location, info in case.meta.components.items() if info.mode is schemathesis.GenerationMode.NEGATIVE}
    if _signed_right(path, signing) and negated & {ParameterLocation.BODY, ParameterLocation.QUERY, ParameterLocation.PATH}:
        return [negative_data_rejection]
    return []


def _signed_right(path: str, signing: Signing) -> bool:
    return signing is Signing.VALID and not path.startswith("/api/v1/tradingview/")


def _path_overrides(target: Target, path: str, data: st.DataObject) -> dict[str, Any]:
    """Path ids: often a real one (a signal that exists, the producer that is configured), else fuzzed."""
    if path.endswith("{signal_id}") and data.draw(st.booleans(), label="existing signal"):
        return {"path_parameters": {"signal_id": data.draw(st.sampled_from(target.signal_ids))}}
    if path.endswith("{producer_id}") and data.draw(st.booleans(), label="configured producer"):
        return {"path_parameters": {"producer_id": PRODUCER_ID}}
    return {}


def _body_override(target: Target, method: str, path: str, mode: Any, data: st.DataObject) -> dict[str, Any]:
    """Sometimes a tradeable signal: generated prices almost never make one (their sides, distances and
    decimals must agree), and the paths behind acceptance (201, replays, duplicates) deserve fuzzing too."""
    if (method, path) != ("POST", "/api/v1/signals") or mode is not schemathesis.GenerationMode.POSITIVE:
        return {}
    if not data.draw(st.booleans(), label="tradeable body"):
        return {}
    return {"body": data.draw(tradeable_signals(target.api.clock.now()), label="body")}


def tradeable_signals(now: datetime) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        side = draw(st.sampled_from(["buy", "sell"]))
        price = draw(st.decimals(min_value=Decimal("100"), max_value=Decimal("5000"), places=2))
        risk = draw(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("50"), places=2))
        reward = risk * draw(st.sampled_from([Decimal("1.5"), Decimal(2), Decimal(3)]))
        sign = 1 if side == "buy" else -1
        body: dict[str, Any] = {
            "instrument": "XAUUSD", "side": side, "price": float(price),
            "stop_loss": float(price - sign * risk), "take_profit": float(price + sign * reward),
            "time": rfc3339(now - timedelta(seconds=draw(st.integers(0, 600)))),
            "version": draw(st.integers(1, 3)),
        }
        if draw(st.booleans()):
            body["external_id"] = draw(st.sampled_from(["a", "b", "c"]))  # few ids: duplicates happen
        if draw(st.booleans()):
            body["payload"] = draw(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3))
        return body

    return build()


def _prepared(case: Any, target: Target, signing: Signing, data: st.DataObject) -> requests.PreparedRequest:
    kwargs = case.as_transport_kwargs(base_url=target.api.base_url)
    if case.path.startswith("/api/v1/tradingview/") and data.draw(st.booleans(), label="right token"):
        kwargs = _with_alert_token(kwargs, target)
    try:
        prepared = requests.Request(
            kwargs["method"], kwargs["url"], headers=kwargs["headers"], params=kwargs.get("params"),
            json=kwargs.get("json"), data=kwargs.get("data"),
        ).prepare()
    except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError):
        reject()  # not something an HTTP client can send at all
    if signing is not Signing.AS_GENERATED and not case.path.startswith("/api/v1/tradingview/"):
        _sign(prepared, target, signing)
    return prepared


def _with_alert_token(kwargs: dict[str, Any], target: Target) -> dict[str, Any]:
    """The fuzzed alert with the producer's real token and a fresh fire time, so the fields behind the
    token check get fuzzed too."""
    fresh = {"token": TOKEN, "timenow": rfc3339(target.api.clock.now())}
    if isinstance(kwargs.get("json"), dict):
        return {**kwargs, "json": {**kwargs["json"], **fresh}}
    if isinstance(kwargs.get("data"), str):
        lines = "".join(f"{key}={value}\n" for key, value in fresh.items())
        return {**kwargs, "data": lines + kwargs["data"]}
    return kwargs


def _sign(prepared: requests.PreparedRequest, target: Target, signing: Signing) -> None:
    body = prepared.body.encode() if isinstance(prepared.body, str) else (prepared.body or b"")
    now = target.api.clock.now()
    timestamp = rfc3339(now - timedelta(hours=1) if signing is Signing.STALE else now)
    secret = "not-the-secret-0123456789" if signing is Signing.WRONG_SECRET else SECRET
    assert prepared.method is not None and prepared.path_url is not None
    headers = SignedHeaders(secret=secret).build(prepared.method, prepared.path_url, body, timestamp)
    del headers["Content-Type"]  # the fuzzed one stays: the content type is fuzzed too
    prepared.headers.update(headers)
    if signing is Signing.TAMPERED:
        if body:
            prepared.prepare_body(body[:-1] + bytes([body[-1] ^ 1]), None)
        else:
            prepared.url = f"{prepared.url}{'&' if '?' in (prepared.url or '') else '?'}limit=1"
