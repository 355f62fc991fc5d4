"""Attributing a signed request to a producer: header presence, known producer, freshness, HMAC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.errors import AuthenticationFailed, AuthReason
from core.signing import parse_timestamp, signature_matches


@dataclass(frozen=True)
class Producer:
    id: str
    secrets: tuple[str, ...]  # several while a key is being rotated

    def __repr__(self) -> str:
        return f"Producer(id={self.id!r}, secrets=<{len(self.secrets)} redacted>)"


@dataclass(frozen=True)
class SignedRequest:
    method: str
    endpoint: str  # path plus ?query exactly as sent
    producer_id: str | None
    timestamp: str | None
    signature: str | None
    body: bytes


class ProducerAuthenticator:
    def __init__(self, producers: Mapping[str, Producer], clock: Clock, max_skew: timedelta) -> None:
        self._producers = producers
        self._clock = clock
        self._max_skew = max_skew

    def authenticate(self, request: SignedRequest) -> str:
        """The producer id that signed `request`; raises AuthenticationFailed saying why not."""
        for header, value in (
            ("X-Producer-Id", request.producer_id),
            ("X-Timestamp", request.timestamp),
            ("X-Signature", request.signature),
        ):
            if not value:
                raise AuthenticationFailed(AuthReason.MISSING_HEADER, f"missing {header} header")
        assert request.producer_id and request.timestamp and request.signature
        producer = self._producers.get(request.producer_id)
        if producer is None:
            raise AuthenticationFailed(AuthReason.UNKNOWN_PRODUCER, f"unknown producer {request.producer_id[:64]!r}")
        try:
            sent_at = parse_timestamp(request.timestamp)
        except ValueError:
            raise AuthenticationFailed(
                AuthReason.STALE_TIMESTAMP, "X-Timestamp must be RFC 3339 UTC, e.g. 2026-11-23T10:00:00Z"
            ) from None
        offset = (sent_at - self._clock.now()).total_seconds()
        if abs(offset) > self._max_skew.total_seconds():
            direction = "ahead of" if offset > 0 else "behind"
            raise AuthenticationFailed(
                AuthReason.STALE_TIMESTAMP,
                f"X-Timestamp is {abs(offset):.0f} s {direction} server time; at most "
                f"{self._max_skew.total_seconds():.0f} s allowed (check the producer's clock)",
            )
        if not signature_matches(
            producer.secrets, request.signature, request.method, request.endpoint,
            request.timestamp, request.producer_id, request.body,
        ):
            raise AuthenticationFailed(AuthReason.BAD_SIGNATURE, "signature does not match (check the secret and the canonical request)")
        return producer.id
