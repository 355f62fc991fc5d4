"""Test helpers: a settable clock, and an independent implementation of the signing scheme.

The signer below is deliberately NOT core.signing: requests it signs prove the server speaks the
documented canonical format, not merely agrees with itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER_ID = "alpha"
SECRET = "alpha-secret-0123456789"
ROTATED_SECRET = "alpha-new-secret-9876543210"
OTHER_PRODUCER_ID = "beta"
OTHER_SECRET = "beta-secret-0123456789ab"
START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    current: datetime = START
    mono: float = 1000.0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self.mono += seconds


def independent_signature(secret: str, method: str, path_qs: str, timestamp: str, producer: str, body: bytes) -> str:
    body_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    message = f"METHOD:{method}\nENDPOINT:{path_qs}\nTIMESTAMP:{timestamp}\nPRODUCER_ID:{producer}\nBODY_SHA256:{body_hash}"
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signal_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instrument": "XAUUSD",
        "side": "buy",
        "price": 2400.50,
        "stop_loss": 2390.00,
        "take_profit": 2420.00,
        "time": rfc3339(START),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP = object()
DROP: Any = _DROP  # signal_body(price=DROP) leaves the field out


@dataclass
class SignedHeaders:
    producer_id: str = PRODUCER_ID
    secret: str = SECRET
    extra: dict[str, str] = field(default_factory=dict)

    def build(self, method: str, path_qs: str, body: bytes, timestamp: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Producer-Id": self.producer_id,
            "X-Timestamp": timestamp,
            "X-Signature": independent_signature(self.secret, method, path_qs, timestamp, self.producer_id, body),
            **self.extra,
        }


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()
