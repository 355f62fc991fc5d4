"""A full desk logging at DEBUG as JSON: signals in, cards out, an approval, a forward that is retried, a bad
signature and other refusals. No configured secret, token or signature appears in any line (nor in what
the bot wrote to Telegram), and the lines on a signal's path carry its id, those of a request its request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.config import BrokerSettings, ForwardSettings, Mt5Settings, ProducerSettings, Settings, TradingViewSettings
from bot.emulator import BotApiEmulator
from bot.logs import configure_logging
from core.quotes import Quote
from tests.conftest import Api
from tests.ops.forward_support import FORWARD_SECRET, Receiver, receiving, rows_when, target
from tests.support import (
    OTHER_PRODUCER_ID,
    OTHER_SECRET,
    PRODUCER_ID,
    ROTATED_SECRET,
    SECRET,
    FakeClock,
    SignedHeaders,
    encode,
    rfc3339,
    signal_body,
)
from tests.telegram.conftest import ADMIN, TRADERS, card_for, reply_to, telegram_settings
from tests.tradingview.tv_alerts import TOKEN, alert_fields, json_message, send_like_tradingview, sha256

WEBHOOK_SECRET = "webhook-secret-0123456789"
MT5_PASSWORD = "mt5-password-0123456789"
REQUEST_ID = "producer-req-0001"


@contextmanager
def json_log(settings: Settings) -> Iterator[io.StringIO]:
    """The root log as `signaldesk serve` sets it up (DEBUG, JSON), into a string; the test's logging restored after."""
    root, quiet = logging.getLogger(), [logging.getLogger(name) for name in ("aiohttp.access", "apscheduler", "aiosqlite")]
    saved = root.handlers[:], root.level, [logger.level for logger in quiet]
    stream = io.StringIO()
    configure_logging("DEBUG", "json", settings=settings, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], level, levels = saved
        root.setLevel(level)
        for logger, old in zip(quiet, levels, strict=True):
            logger.setLevel(old)


def _settings(database_url: str, emulator: BotApiEmulator, receiver: Receiver) -> Settings:
    base = telegram_settings(database_url, emulator, webhook_secret=WEBHOOK_SECRET)
    return base.model_copy(update={
        "producers": [
            ProducerSettings(id=PRODUCER_ID, secrets=[SECRET, ROTATED_SECRET], tradingview_token_sha256=[sha256(TOKEN)]),
            ProducerSettings(id=OTHER_PRODUCER_ID, secrets=[OTHER_SECRET]),
        ],
        "tradingview": TradingViewSettings(allowed_ips=["127.0.0.1"]),
        "broker": BrokerSettings(mt5=Mt5Settings(password=MT5_PASSWORD)),
        "forward": [ForwardSettings(**target(receiver.url))],
    })


class Producer:
    """Posts signed signals and keeps every signature it sent."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.signatures: list[str] = []

    async def post(self, body: Any, *, secret: str = SECRET, request_id: str | None = None) -> tuple[int, Mapping[str, str], Any]:
        raw = encode(body)
        headers = SignedHeaders(secret=secret).build("POST", "/api/v1/signals", raw, rfc3339(self.api.clock.now()))
        self.signatures.append(headers["X-Signature"])
        if request_id is not None:
            headers["X-Request-Id"] = request_id
        async with self.api.session.post(self.api.base_url + "/api/v1/signals", data=raw, headers=headers) as response:
            return response.status, response.headers.copy(), await response.json(content_type=None)  # names in any case


async def test_a_full_run_logs_no_secret_and_tags_each_line_with_its_signal_and_request(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock
) -> None:
    async with receiving(clock, [503, 201]) as receiver:
        settings = _settings(database_url, emulator, receiver)
        with json_log(settings) as stream:
            desk = await api_factory(settings)
            producer = Producer(desk)
            await desk.desk.quotes.submit([Quote("XAUUSD", Decimal("2400.30"), Decimal("2400.60"), clock.now())])

            status, headers, signal = await producer.post(signal_body(external_id="s-1"), request_id=REQUEST_ID)
            assert status == 201 and headers["X-Request-Id"] == REQUEST_ID
            status, headers, _ = await producer.post(signal_body(external_id="s-2"), secret="a-secret-nobody-configured")
            assert status == 401 and len(headers["X-Request-Id"]) == 32  # none given: one is made
            status, headers, _ = await producer.post(signal_body(price=-1), request_id="has spaces and \"quotes\"")
            assert status == 422 and len(headers["X-Request-Id"]) == 32  # not a sane id: replaced
            bar = rfc3339(clock.now() - timedelta(hours=1))  # another bar than the signal's: not a duplicate
            assert (await send_like_tradingview(desk, json_message(alert_fields(desk, time=bar))))[0] == 201
            assert (await send_like_tradingview(desk, json_message(alert_fields(desk, token="wrong-token-" + "x" * 30))))[0] == 401

            emulator.press(TRADERS[0], (await card_for(emulator, TRADERS[0], signal)).message_id, button="Approve")
            await emulator.wait_for_messages(TRADERS[0], lambda ms: any("Order placed" in (m.text or "") for m in ms))
            # Three forwards (two accepted, one executed); the first attempt met a 503 and waits for its retry.
            await rows_when(desk, lambda rows: len(rows) == 3 and all(r.state in ("pending", "delivered") for r in rows))
            clock.advance(5)
            assert desk.desk.forwarder is not None
            desk.desk.forwarder.wake()
            await rows_when(desk, lambda rows: all(r.state == "delivered" for r in rows))
            status_reply = await reply_to(emulator, ADMIN, "/status")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]

    secrets = {
        "producer secret": SECRET, "rotated secret": ROTATED_SECRET, "other producer's secret": OTHER_SECRET,
        "bot token": emulator.token, "bot token's secret part": emulator.token.partition(":")[2],
        "webhook secret": WEBHOOK_SECRET, "MT5 password": MT5_PASSWORD, "forward secret": FORWARD_SECRET,
        "TradingView token": TOKEN,
        **{f"signature {n}": s for n, s in enumerate(producer.signatures)},
        **{f"forward signature {n}": r.headers["X-Signature"] for n, r in enumerate(receiver.received)},
    }
    written = "\n".join(json.dumps(line) for line in lines)
    telegram = "\n".join(m.text or m.caption or "" for chat in (ADMIN, *TRADERS) for m in emulator.messages(chat)) + status_reply
    assert [name for name, value in secrets.items() if value in written or value in telegram] == []
    assert len(receiver.received) == 4 and len(producer.signatures) == 3

    assert all({"ts", "level", "logger", "msg"} <= line.keys() for line in lines)
    mentioning = [line for line in lines if signal["id"] in line["msg"]]
    assert mentioning and all(line.get("signal_id") == signal["id"] for line in mentioning), [
        line for line in mentioning if line.get("signal_id") != signal["id"]
    ]
    path = {line["logger"] for line in lines if line.get("signal_id") == signal["id"]}
    assert {"core.ingest", "bot.telegram.fanout", "bot.telegram.sender", "core.approvals", "core.execution", "core.forwarding"} <= path
    [accepted] = [line for line in mentioning if line["msg"].startswith("event=signal_accepted")]
    assert accepted["request_id"] == REQUEST_ID
    [decision] = [line for line in mentioning if line["msg"].startswith("event=decision ")]
    assert decision["request_id"].startswith("tg-")
