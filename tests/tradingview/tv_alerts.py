"""Helpers for the TradingView endpoint tests: tokens, settings, and alerts sent the way TradingView
sends them (the message with its placeholders filled; application/json when the message is valid JSON,
text/plain otherwise)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.config import Settings
from tests.conftest import Api, make_settings
from tests.support import OTHER_PRODUCER_ID, OTHER_SECRET, PRODUCER_ID, ROTATED_SECRET, SECRET, START, rfc3339

# Made like `signaldesk tradingview new-token` makes them (43 URL-safe base64 characters, 256 bits).
TOKEN = "k3rIm1agFfjhI7OAs-T0fhBn_BryjN2ra0Gy8nwmhb8"
ROTATED_TOKEN = "Zq0v7GQm3r1a9xT2b5yW8eL4nP6sJcKdHfUiOtRgAw0"
OTHER_TOKEN = "b3TA-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
BAR_TIME = rfc3339(START)
ENDPOINT = f"/api/v1/tradingview/{PRODUCER_ID}"


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tv_settings(database_url: str, *, signals: dict[str, Any] | None = None, **tradingview: Any) -> Settings:
    """alpha: HMAC secrets and two alert tokens (rotation); beta: one token. Loopback allowed unless overridden."""
    return make_settings(
        database_url,
        signals=signals or {},
        producers=[
            {"id": PRODUCER_ID, "secrets": [SECRET, ROTATED_SECRET],
             "tradingview_token_sha256": [sha256(TOKEN), sha256(ROTATED_TOKEN)]},
            {"id": OTHER_PRODUCER_ID, "secrets": [OTHER_SECRET], "tradingview_token_sha256": [sha256(OTHER_TOKEN)]},
        ],
        tradingview={"allowed_ips": ["127.0.0.1"], **tradingview},
    )


def alert_fields(api: Api, **overrides: Any) -> dict[str, Any]:
    """A strategy entry as the CLI's template makes it, placeholders filled; None drops a field."""
    fields: dict[str, Any] = {
        "token": TOKEN,
        "ticker": "OANDA:XAUUSD",
        "action": "buy",
        "position": "long",
        "price": "2400.5",
        "stop": "2390",
        "target": "2420",
        "time": BAR_TIME,
        "timenow": rfc3339(api.clock.now()),
        "interval": "60",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def text_message(fields: dict[str, Any]) -> str:
    return "\n".join(f"{key}={value}" for key, value in fields.items())


def json_message(fields: dict[str, Any]) -> str:
    return json.dumps(fields, indent=2)


# The two shapes of alert message TradingView can send.
MESSAGE_SHAPES = {"json": json_message, "text": text_message}


async def send_like_tradingview(
    api: Api, message: str | bytes, *, producer_id: str = PRODUCER_ID, headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """POST as TradingView's webhook sender does: the message verbatim, JSON content type only when it parses."""
    raw = message.encode() if isinstance(message, str) else message
    try:
        json.loads(raw)
        content_type = "application/json; charset=utf-8"
    except ValueError:
        content_type = "text/plain; charset=utf-8"
    return await post_raw(api, raw, content_type, producer_id=producer_id, headers=headers)


async def post_raw(
    api: Api, raw: Any, content_type: str | None, *, producer_id: str = PRODUCER_ID,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    sent = {"Content-Type": content_type} if content_type else {}
    sent.update(headers or {})
    async with api.session.post(f"{api.base_url}/api/v1/tradingview/{producer_id}", data=raw, headers=sent) as r:
        text = await r.text()
        assert TOKEN not in text and ROTATED_TOKEN not in text, "a response echoed the token"
        if r.status >= 400:
            assert r.content_type == "application/problem+json"
        return r.status, dict(r.headers), json.loads(text) if text else None
