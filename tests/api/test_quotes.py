"""POST /api/v1/quotes over real HTTP on both databases: judged one by one, stored, traded on by the paper
broker; a broken request refused as a whole with the field (and index) named; never a 5xx."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from core.orders import OrderKind
from core.signals import Side
from tests.conftest import Api, make_settings
from tests.execution.exec_support import D, request
from tests.support import OTHER_PRODUCER_ID, OTHER_SECRET, START, SignedHeaders, encode, rfc3339

PATH = "/api/v1/quotes"


def q(bid: Any = 2400.1, ask: Any = 2400.4, seconds: int = 1, instrument: Any = "XAUUSD", **extra: Any) -> dict[str, Any]:
    return {"instrument": instrument, "bid": bid, "ask": ask, "time": rfc3339(START + timedelta(seconds=seconds)), **extra}


async def push(api: Api, *quotes: Any, **kwargs: Any) -> tuple[int, Any]:
    status, _, body = await api.request("POST", PATH, {"quotes": list(quotes)}, **kwargs)
    return status, body


async def metric_lines(api: Api) -> list[str]:
    async with api.session.get(api.base_url + "/metrics") as r:
        return [line for line in (await r.text()).splitlines() if line.startswith("signaldesk_quotes_total")]


async def test_each_quote_is_judged_and_the_accepted_ones_become_the_price(api: Api) -> None:
    status, body = await push(api, q(2400.1, 2400.4, 1), q(24100, 24100.3, 2), q(1.0712, 1.0714, 2, "EURUSD"), q(2400.2, 2400.5, 3))

    assert status == 202
    assert (body["accepted"], body["refused"]) == (3, 1)
    assert [r["status"] for r in body["results"]] == ["accepted", "refused", "accepted", "accepted"]
    refused = body["results"][1]
    assert (refused["instrument"], refused["problem"]) == ("XAUUSD", "jump")
    assert "24100.15 is 10.04x the last mid 2400.25" in refused["detail"]
    prices = api.desk.trading.prices
    latest = await prices.latest_quote("XAUUSD")
    assert latest is not None and (latest.bid, latest.ask, latest.time) == (D("2400.2"), D("2400.5"), START + timedelta(seconds=3))
    assert sorted(await metric_lines(api)) == [
        'signaldesk_quotes_total{outcome="accepted",problem=""} 3.0',
        'signaldesk_quotes_total{outcome="refused",problem="jump"} 1.0',
    ]


async def test_absurd_values_are_refused_per_quote_not_as_a_bad_request(api: Api) -> None:
    raw = encode({"quotes": [q(2400.1, 2400.4, 1)]})[:-2] + b', {"instrument": "XAUUSD", "bid": NaN, "ask": 1, "time": "' + rfc3339(START).encode() + b'"}]}'
    status, _, body = await api.request("POST", PATH, raw=raw)
    assert status == 202 and body["results"][1]["problem"] == "not_finite"

    status, body = await push(
        api, q(0, 2400.4, 2), q(-2400.1, 2400.4, 2), q(2400.5, 2400.4, 2), q(2400.1, 2400.4, 1), q(2400.1, 2400.4, 400), q(2400.2, 2400.5, 2),
    )
    assert status == 202
    assert [r.get("problem") for r in body["results"]] == ["non_positive", "non_positive", "crossed", "duplicate", "future", None]


async def test_pushed_quotes_drive_the_paper_broker(api: Api) -> None:
    paper = api.desk.trading.paper
    assert paper is not None
    await paper.place(request(Side.BUY, "2400.50", "2390.00", "2420.00"), OrderKind.LIMIT)

    await push(api, q(2401.0, 2401.3, 1), q(2400.2, 2400.5, 2))
    [position] = await paper.positions("trader-111")
    assert position.open_price == D("2400.5")

    await push(api, q(2420.1, 2420.4, 3))
    assert await paper.positions("trader-111") == []
    account = await api.desk.trading.trade_store.account("trader-111")
    assert account is not None and account.balance == D("10196.00")


async def test_any_configured_producer_may_push(api: Api) -> None:
    status, body = await push(api, q(), signer=SignedHeaders(OTHER_PRODUCER_ID, OTHER_SECRET))
    assert status == 202 and body["accepted"] == 1


BAD_SHAPES = [
    ("quotes missing", {}, "quotes", "must be an array of 1 to 500 quotes, got nothing"),
    ("quotes empty", {"quotes": []}, "quotes", "got an empty array"),
    ("quotes an object", {"quotes": {"bid": 1}}, "quotes", "got object"),
    ("a stray top-level field", {"quotes": [q()], "feed": "x"}, "feed", "unknown field"),
    ("an item not an object", {"quotes": [q(), 5]}, "quotes[1]", "must be an object, got number"),
    ("a price as text", {"quotes": [q(), q(), q(), q(bid="2400.1")]}, "quotes[3].bid", "must be a number, got string"),
    ("a price missing", {"quotes": [{"instrument": "XAUUSD", "ask": 1, "time": rfc3339(START)}]}, "quotes[0].bid", "is required"),
    ("a price too large", {"quotes": [q(ask=1e10)]}, "quotes[0].ask", "must be less than 1E+10"),
    ("too many decimals", {"quotes": [q(bid=1.12345678901)]}, "quotes[0].bid", "more than 10 decimal places"),
    ("a lower-case instrument", {"quotes": [q(instrument="xauusd")]}, "quotes[0].instrument", "must match"),
    ("no instrument", {"quotes": [q(instrument=None)]}, "quotes[0].instrument", "is required"),
    ("a time without offset", {"quotes": [q(time="2026-11-23T10:00:01")]}, "quotes[0].time", "RFC 3339"),
    ("a time as a number", {"quotes": [q(time=1764000000)]}, "quotes[0].time", "RFC 3339"),
    ("an unknown quote field", {"quotes": [q(volume=3)]}, "quotes[0].volume", "unknown field"),
]


@pytest.mark.parametrize(("name", "body", "field", "reason"), BAD_SHAPES, ids=[c[0] for c in BAD_SHAPES])
async def test_a_misshapen_body_is_422_naming_the_field_and_nothing_is_taken(api: Api, name: str, body: Any, field: str, reason: str) -> None:
    status, headers, problem = await api.request("POST", PATH, body)

    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"] == "/problems/invalid-quotes"
    assert any(e["field"] == field and reason in e["reason"] for e in problem["errors"]), problem["errors"]
    assert await api.desk.trading.prices.latest_quote("XAUUSD") is None


async def test_every_bad_field_is_listed_at_once(api: Api) -> None:
    _, _, problem = await api.request("POST", PATH, {"quotes": [q(bid="x"), q(), q(ask=None, time="soon")]})
    assert [e["field"] for e in problem["errors"]] == ["quotes[0].bid", "quotes[2].ask", "quotes[2].time"]


async def test_request_level_refusals(api_factory: Any, database_url: str) -> None:
    api = await api_factory(make_settings(database_url, quotes={"max_per_request": 3}))

    status, _, problem = await api.request("POST", PATH, raw=b"{not json")
    assert (status, problem["type"]) == (400, "/problems/malformed-body")
    status, _, problem = await api.request("POST", PATH, {"quotes": [q()]}, headers={"Content-Type": "text/plain"})
    assert (status, problem["type"]) == (415, "/problems/unsupported-media-type")
    status, _, problem = await api.request("POST", PATH, {"quotes": [q()]}, signer=SignedHeaders(secret="not-the-secret-at-all"))
    assert (status, problem["type"]) == (401, "/problems/bad-signature")
    status, _, problem = await api.request("POST", PATH, {"quotes": [q(seconds=s) for s in range(4)]})
    assert (status, problem["type"]) == (413, "/problems/too-many-quotes")
    assert problem["detail"] == "4 quotes in one request; at most 3 (quotes.max_per_request)"
    oversized = encode({"quotes": [q(pad="x" * 2000)]})  # 1024 + 256 bytes a quote, for 3 quotes
    status, _, problem = await api.request("POST", PATH, raw=oversized)
    assert (status, problem["type"]) == (413, "/problems/payload-too-large")
    assert await api.desk.trading.prices.latest_quote("XAUUSD") is None


async def test_the_endpoint_is_in_the_openapi_document(api: Api) -> None:
    async with api.session.get(api.base_url + "/api/v1/openapi.json") as r:
        spec = await r.json()
    post = spec["paths"][PATH]["post"]
    assert set(post["responses"]) == {"202", "400", "401", "413", "415", "422", "503"}
    schema = spec["components"]["schemas"]["QuotesIn"]
    assert schema["properties"]["quotes"]["maxItems"] == 500 and schema["additionalProperties"] is False
    assert re.search(r"quotes\.max_per_request", post["description"])
