"""ProducerClient over real HTTP, against a scripted server that checks every signature with its own
few lines of hmac/hashlib (not core.signing), records each request and plays scripted answers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import random
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.producer_client import ProducerApiError, ProducerClient, ProducerConnectionError, SendResult

SECRET = "s3cr3t-for-tests-0123456789"
PRODUCER = "alpha"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SIGNAL = {"id": "sig-1", "status": "new", "instrument": "XAUUSD"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def independent_signature(method: str, endpoint: str, timestamp: str, producer_id: str, body: bytes) -> str:
    body_sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    canonical = "\n".join(
        [f"METHOD:{method}", f"ENDPOINT:{endpoint}", f"TIMESTAMP:{timestamp}", f"PRODUCER_ID:{producer_id}",
         f"BODY_SHA256:{body_sha}"]
    )
    return base64.b64encode(hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Recorded:
    method: str
    endpoint: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


def reply(status: int, document: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        content_type = "application/json" if status < 400 else "application/problem+json"
        return web.Response(
            status=status, text=json.dumps(document or {}), content_type=content_type, headers=headers
        )

    return handler


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


async def drop_connection(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()
    return web.Response()  # never delivered


class ScriptedServer:
    """Plays `script` one entry per request (the last one repeats) after checking the signature."""

    def __init__(self) -> None:
        self.script: list[Handler] = []
        self.requests: list[Recorded] = []
        self.base_url = ""
        self.release_stalled = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = dict(request.headers)
        expected = independent_signature(
            request.method, request.raw_path, headers.get("X-Timestamp", ""), headers.get("X-Producer-Id", ""), body
        )
        ok = hmac.compare_digest(expected, headers.get("X-Signature", ""))
        self.requests.append(Recorded(request.method, request.raw_path, headers, body, ok))
        if not ok:
            return await reply(401, problem(401, "Unauthorized", "bad signature"))(request)
        handler = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return await handler(request)

    async def stall(self, request: web.Request) -> web.Response:
        await self.release_stalled.wait()
        return web.Response()


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def ticking_clock() -> Callable[[], datetime]:
    """A clock one second further on at every reading, so each attempt gets its own timestamp."""
    ticks = itertools.count()
    return lambda: T0 + timedelta(seconds=next(ticks))


def assert_backoff(delays: list[float], base: float) -> None:
    for attempt, delay in enumerate(delays):
        nominal = base * 2**attempt
        assert nominal * 0.9 <= delay <= nominal * 1.1, (attempt, delay)


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    scripted.base_url = f"http://127.0.0.1:{test_server.port}"
    yield scripted
    scripted.release_stalled.set()
    await test_server.close()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(server: ScriptedServer, sleeps: RecordingSleep) -> Callable[..., ProducerClient]:
    def make(**options: Any) -> ProducerClient:
        settings: dict[str, Any] = {"sleep": sleeps, "rng": random.Random(7), "clock": ticking_clock()}
        settings.update(options)
        return ProducerClient(settings.pop("base_url", server.base_url), PRODUCER, SECRET, **settings)

    return make


async def test_send_signal_posts_a_signed_exact_body_and_reports_created(server, make_client):
    server.script = [reply(201, SIGNAL, {"Location": "/api/v1/signals/sig-1"})]
    async with make_client() as client:
        result = await client.send_signal(
            "XAUUSD", "buy", Decimal("2400.50"), Decimal("2390.00"), Decimal("2420.00"),
            time=T0, external_id="tv-123", payload={"rsi": Decimal("71.2"), "tags": ["a"]},
        )

    assert result == SendResult(created=True, signal=SIGNAL)
    [request] = server.requests
    assert request.signature_ok
    assert (request.method, request.endpoint) == ("POST", "/api/v1/signals")
    assert request.body == (
        b'{"instrument":"XAUUSD","side":"buy","price":2400.50,"stop_loss":2390.00,"take_profit":2420.00,'
        b'"time":"2026-11-23T10:00:00Z","version":1,"external_id":"tv-123","payload":{"rsi":71.2,"tags":["a"]}}'
    )
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Producer-Id"] == PRODUCER
    assert request.headers["X-Timestamp"] == "2026-11-23T10:00:00Z"
    assert uuid.UUID(request.headers["X-Idempotency-Key"]).version == 4


async def test_idempotent_replay_is_reported_as_not_created(server, make_client):
    server.script = [reply(200, SIGNAL)]
    async with make_client() as client:
        result = await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420, idempotency_key="my-key-1")

    assert result == SendResult(created=False, signal=SIGNAL)
    assert server.requests[0].headers["X-Idempotency-Key"] == "my-key-1"


async def test_float_and_text_prices_are_exact_and_time_defaults_to_the_clock(server, make_client):
    server.script = [reply(201, SIGNAL)]
    async with make_client() as client:
        await client.send_signal("EURUSD", "sell", 1.1, "1.1050", 1)

    body = json.loads(server.requests[0].body, parse_float=Decimal)
    assert (body["price"], body["stop_loss"], body["take_profit"]) == (Decimal("1.1"), Decimal("1.1050"), 1)
    assert body["time"] == "2026-11-23T10:00:00Z"


@pytest.mark.parametrize(
    "arguments",
    [
        {"price": Decimal("NaN")},
        {"price": float("inf")},
        {"stop_loss": "abc"},
        {"time": datetime(2026, 11, 23, 10, 0)},
    ],
    ids=["nan", "infinity", "not-a-number", "naive-time"],
)
async def test_unsendable_values_are_refused_before_sending(server, make_client, arguments):
    signal: dict[str, Any] = {"price": 2400, "stop_loss": 2390, "take_profit": 2420} | arguments
    async with make_client() as client:
        with pytest.raises(ValueError):
            await client.send_signal("XAUUSD", "buy", **signal)
    assert server.requests == []


async def test_get_signal_is_signed_over_an_empty_body(server, make_client):
    server.script = [reply(200, SIGNAL)]
    async with make_client() as client:
        assert await client.get_signal("sig-1") == SIGNAL

    [request] = server.requests
    assert (request.method, request.endpoint, request.body, request.signature_ok) == (
        "GET", "/api/v1/signals/sig-1", b"", True
    )
    assert "X-Idempotency-Key" not in request.headers


async def test_list_signals_signs_a_stable_query_exactly_as_sent(server, make_client):
    page = {"items": [SIGNAL], "next_cursor": None}
    server.script = [reply(200, page)]
    async with make_client() as client:
        assert await client.list_signals(status="new", instrument="XAUUSD", limit=50, cursor="abc+/=") == page
        await client.list_signals(cursor="c2", limit=10)
        await client.list_signals()

    assert [r.endpoint for r in server.requests] == [
        "/api/v1/signals?status=new&instrument=XAUUSD&limit=50&cursor=abc%2B%2F%3D",
        "/api/v1/signals?limit=10&cursor=c2",
        "/api/v1/signals",
    ]
    assert all(r.signature_ok for r in server.requests)


async def test_a_base_url_path_prefix_is_part_of_the_signed_endpoint(server, make_client):
    server.script = [reply(200, SIGNAL)]
    async with make_client(base_url=server.base_url + "/desk/") as client:
        await client.get_signal("sig-1")

    assert server.requests[0].endpoint == "/desk/api/v1/signals/sig-1"
    assert server.requests[0].signature_ok


async def test_503_500_429_are_retried_with_one_idempotency_key_and_fresh_signatures(server, make_client, sleeps):
    unavailable = problem(503, "Service Unavailable", "storage unavailable")
    server.script = [
        reply(503, unavailable),
        reply(500, problem(500, "Internal Server Error", "boom")),
        reply(429, problem(429, "Too Many Requests", "rate limit")),
        reply(201, SIGNAL),
    ]
    async with make_client() as client:
        result = await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    assert result.created
    assert len(server.requests) == 4
    assert all(r.signature_ok for r in server.requests)
    assert len({r.headers["X-Idempotency-Key"] for r in server.requests}) == 1
    assert len({r.headers["X-Timestamp"] for r in server.requests}) == 4
    assert len({r.headers["X-Signature"] for r in server.requests}) == 4
    assert len(sleeps.delays) == 3
    assert_backoff(sleeps.delays, base=0.5)


async def test_backoff_doubles_with_ten_percent_jitter(server, make_client, sleeps):
    server.script = [reply(503, problem(503, "Service Unavailable", "storage unavailable"))]
    async with make_client(max_tries=7, backoff_base=1.0) as client:
        with pytest.raises(ProducerApiError):
            await client.get_signal("sig-1")

    assert len(sleeps.delays) == 6
    assert_backoff(sleeps.delays, base=1.0)
    assert any(delay != 2**attempt for attempt, delay in enumerate(sleeps.delays)), "no jitter applied"


async def test_backoff_is_capped_at_120_seconds(server, make_client, sleeps):
    server.script = [reply(500, problem(500, "Internal Server Error", "boom"))]
    async with make_client(max_tries=12, backoff_base=1.0) as client:
        with pytest.raises(ProducerApiError):
            await client.get_signal("sig-1")

    assert_backoff(sleeps.delays[:7], base=1.0)
    assert sleeps.delays[8:] == [120.0, 120.0, 120.0]
    assert max(sleeps.delays) == 120.0


async def test_retry_after_is_honoured_within_backoff_and_cap(server, make_client, sleeps):
    server.script = [
        reply(429, problem(429, "Too Many Requests", "slow down"), {"Retry-After": "7"}),
        reply(503, problem(503, "Service Unavailable", "storage unavailable"), {"Retry-After": "1"}),
        reply(503, problem(503, "Service Unavailable", "storage unavailable"), {"Retry-After": "3600"}),
        reply(201, SIGNAL),
    ]
    async with make_client(backoff_base=2.0) as client:
        await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    # Server's 7 s beats the 2 s backoff; a shorter Retry-After never undercuts the backoff; the cap still holds.
    assert sleeps.delays[0] == 7.0
    assert_backoff(sleeps.delays[1:2], base=4.0)
    assert sleeps.delays[2] == 120.0


CLIENT_ERRORS = {
    400: problem(400, "Malformed body", "body is not valid JSON"),
    401: problem(401, "Unauthorized", "timestamp outside the allowed skew"),
    404: problem(404, "Not Found", "no such signal"),
    409: problem(409, "Duplicate signal", "external_id tv-123 already used by signal sig-0"),
    413: problem(413, "Payload Too Large", "body over 32768 bytes"),
    415: problem(415, "Unsupported Media Type", "content type must be application/json"),
    422: problem(
        422, "Invalid signal", "1 field problem",
        errors=[{"field": "stop_loss", "reason": "must be below price for a buy"}],
    ),
}


@pytest.mark.parametrize("status", sorted(CLIENT_ERRORS))
async def test_client_errors_are_not_retried_and_carry_the_problem(server, make_client, sleeps, status):
    server.script = [reply(status, CLIENT_ERRORS[status])]
    async with make_client() as client:
        with pytest.raises(ProducerApiError) as raised:
            await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    error = raised.value
    expected = CLIENT_ERRORS[status]
    assert (error.status, error.title, error.detail) == (status, expected["title"], expected["detail"])
    assert error.errors == expected.get("errors", [])
    assert str(error).startswith(f"HTTP {status} {expected['title']}: {expected['detail']}")
    assert len(server.requests) == 1
    assert sleeps.delays == []


async def test_422_field_problems_are_listed_in_the_message(server, make_client):
    server.script = [reply(422, CLIENT_ERRORS[422])]
    async with make_client() as client:
        with pytest.raises(ProducerApiError, match="stop_loss: must be below price for a buy"):
            await client.send_signal("XAUUSD", "buy", 2400, 2410, 2420)


async def test_tries_are_bounded_then_the_last_problem_is_raised(server, make_client, sleeps):
    server.script = [reply(503, problem(503, "Service Unavailable", "storage unavailable"))]
    async with make_client(max_tries=3) as client:
        with pytest.raises(ProducerApiError, match="after 3 attempts") as raised:
            await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    assert (raised.value.status, raised.value.detail, raised.value.attempts) == (503, "storage unavailable", 3)
    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2


async def test_an_error_without_problem_json_still_explains_itself(server, make_client):
    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway from proxy</html>", content_type="text/html")

    server.script = [bad_gateway]
    async with make_client(max_tries=1) as client:
        with pytest.raises(ProducerApiError, match="Bad Gateway from proxy") as raised:
            await client.get_signal("sig-1")
    assert raised.value.status == 502


async def test_connection_refused_is_retried_then_raises_a_connection_error(make_client, sleeps):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with make_client(base_url=f"http://127.0.0.1:{port}", max_tries=4) as client:
        with pytest.raises(ProducerConnectionError, match="after 4 attempts") as raised:
            await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    assert raised.value.attempts == 4
    assert isinstance(raised.value.__cause__, aiohttp.ClientConnectorError)
    assert len(sleeps.delays) == 3
    assert_backoff(sleeps.delays, base=0.5)


async def test_dropped_connection_and_timeout_are_retried_with_the_same_key(server, make_client, sleeps):
    server.script = [drop_connection, server.stall, reply(201, SIGNAL)]
    async with make_client(timeout=0.2) as client:
        result = await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)

    assert result.created
    assert len(server.requests) == 3
    assert len({r.headers["X-Idempotency-Key"] for r in server.requests}) == 1
    assert len(sleeps.delays) == 2


async def test_secret_never_appears_in_repr_str_or_logs(server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    server.script = [
        reply(503, problem(503, "Service Unavailable", "storage unavailable")),
        reply(201, SIGNAL),
        reply(401, problem(401, "Unauthorized", "bad signature")),
    ]
    client = make_client()
    async with client:
        await client.send_signal("XAUUSD", "buy", 2400, 2390, 2420)
        with pytest.raises(ProducerApiError) as raised:
            await client.get_signal("sig-1")

    assert repr(client) == f"ProducerClient(base_url={server.base_url!r}, producer_id='alpha')"
    exposed = [repr(client), str(client), repr(vars(client)), str(raised.value), caplog.text]
    assert not any(SECRET in text for text in exposed)
    signatures = [r.headers["X-Signature"] for r in server.requests]
    assert not any(signature in caplog.text for signature in signatures)
    # One key=value line per attempt.
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.producer_client"]
    assert len(lines) == 3
    assert lines[0].startswith("producer_request method=POST endpoint=/api/v1/signals attempt=1/5 ")
    assert "status=503" in lines[0] and "retry_in=" in lines[0]
    assert "status=401" in lines[2] and "retryable=false" in lines[2]


async def test_an_external_session_is_used_and_left_open(server, make_client):
    server.script = [reply(200, SIGNAL)]
    async with aiohttp.ClientSession() as session:
        async with make_client(session=session) as client:
            await client.get_signal("sig-1")
        assert not session.closed
    assert len(server.requests) == 1


async def test_a_client_that_is_not_open_says_so(make_client):
    with pytest.raises(RuntimeError, match="async with"):
        await make_client().get_signal("sig-1")


@pytest.mark.parametrize(
    ("base_url", "secret", "max_tries"),
    [("127.0.0.1:8080", SECRET, 5), ("ftp://host", SECRET, 5), ("http://host", "", 5), ("http://host", SECRET, 0)],
    ids=["no-scheme", "not-http", "empty-secret", "no-tries"],
)
def test_bad_construction_is_refused(base_url, secret, max_tries):
    with pytest.raises(ValueError):
        ProducerClient(base_url, PRODUCER, secret, max_tries=max_tries)
