"""The canonical-request HMAC scheme shared by producers, the API and outbound forwarding.

canonical = "\n".join([METHOD:<m>, ENDPOINT:<path?query>, TIMESTAMP:<ts>, PRODUCER_ID:<id>, BODY_SHA256:<b64>])
signature = base64(HMAC-SHA256(secret, canonical))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

MIN_SECRET_BYTES = 16


def body_digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def canonical_request(method: str, endpoint: str, timestamp: str, producer_id: str, body: bytes) -> str:
    return "\n".join(
        (
            f"METHOD:{method.upper()}",
            f"ENDPOINT:{endpoint}",
            f"TIMESTAMP:{timestamp}",
            f"PRODUCER_ID:{producer_id}",
            f"BODY_SHA256:{body_digest(body)}",
        )
    )


def sign(secret: str, method: str, endpoint: str, timestamp: str, producer_id: str, body: bytes) -> str:
    canonical = canonical_request(method, endpoint, timestamp, producer_id, body)
    mac = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def signature_matches(
    secrets: Iterable[str], signature: str, method: str, endpoint: str, timestamp: str, producer_id: str, body: bytes
) -> bool:
    """True when any of the producer's secrets (key rotation) produced `signature`; constant-time per secret."""
    given = signature.encode("ascii", "replace")
    matched = False
    for secret in secrets:
        expected = sign(secret, method, endpoint, timestamp, producer_id, body).encode("ascii")
        # Check every secret so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, given)
    return matched


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, second precision: the form producers are asked to send."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp that carries an explicit offset; raises ValueError otherwise."""
    if len(text) > 40 or "T" not in text.upper():
        raise ValueError("not an RFC 3339 timestamp")
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T01:00:00+03:00 lies before the first representable moment
        raise ValueError("timestamp is out of range") from None
