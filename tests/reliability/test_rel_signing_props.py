"""Signature canonicalisation by property: the server's signer and the independent one in tests/support.py
agree on every request, and changing any one signed part of a request (method, path and query, timestamp,
producer id, one byte of the body) or the secret makes the signature fail."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from core.signing import sign, signature_matches
from tests.support import independent_signature

# What can stand in a header or request line: printable, no line breaks (they would split the canonical form).
line = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE"])
secrets = st.text(min_size=16, max_size=40)
requests_ = st.fixed_dictionaries({
    "method": methods, "endpoint": line, "timestamp": line, "producer_id": line, "body": st.binary(max_size=300),
})


@given(secret=secrets, request=requests_)
def test_the_server_and_the_independent_signer_agree(secret: str, request: dict) -> None:
    assert sign(secret, **request) == independent_signature(
        secret, request["method"], request["endpoint"], request["timestamp"], request["producer_id"], request["body"]
    )


@given(secret=secrets, request=requests_, part=st.sampled_from(["method", "endpoint", "timestamp", "producer_id", "body"]), data=st.data())
def test_changing_any_signed_part_breaks_the_signature(secret: str, request: dict, part: str, data: st.DataObject) -> None:
    signature = sign(secret, **request)
    changed = {**request, part: data.draw(_other_than(part, request[part]), label=part)}
    assert not signature_matches([secret], signature, **changed)
    assert signature_matches([secret], signature, **request)


@given(secret=secrets, other=secrets, rotated=secrets, request=requests_)
def test_only_the_producers_own_secrets_match(secret: str, other: str, rotated: str, request: dict) -> None:
    assume(other not in (secret, rotated))
    signature = sign(secret, **request)
    assert signature_matches([rotated, secret], signature, **request)  # key rotation: any listed secret
    assert not signature_matches([other], signature, **request)


def _other_than(part: str, value: str | bytes) -> st.SearchStrategy:
    if part == "body":
        assert isinstance(value, bytes)
        if not value:
            return st.binary(min_size=1, max_size=10)
        # One byte flipped, or one byte added or removed: the smallest edits a proxy could make.
        return st.integers(0, len(value) - 1).flatmap(lambda i: st.sampled_from([
            value[:i] + bytes([value[i] ^ 1]) + value[i + 1:], value[:i] + value[i + 1:], value + b" ",
        ]))
    if part == "method":
        # The method is compared upper-cased (POST and post are one method), so a change is another method.
        return st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]).filter(lambda m: m != str(value).upper())
    return line.filter(lambda text: text != value)
