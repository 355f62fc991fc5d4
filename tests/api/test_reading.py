"""GET one signal, list with filters and cursor pagination; a producer sees only its own."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.support import OTHER_PRODUCER_ID, OTHER_SECRET, SignedHeaders, signal_body

OTHER = SignedHeaders(producer_id=OTHER_PRODUCER_ID, secret=OTHER_SECRET)


async def _create(api: Api, n: int, **fields) -> list[str]:
    ids = []
    for i in range(n):
        status, _, body = await api.post_signal(signal_body(version=i + 1, **fields))
        assert status == 201
        ids.append(body["id"])
    return ids


async def test_another_producers_signal_is_not_found(api: Api) -> None:
    [signal_id] = await _create(api, 1)
    status, _, problem = await api.request("GET", f"/api/v1/signals/{signal_id}", signer=OTHER)
    assert status == 404 and problem["type"] == "/problems/not-found"
    status, _, page = await api.request("GET", "/api/v1/signals", signer=OTHER)
    assert status == 200 and page == {"signals": [], "next_cursor": None}


async def test_unknown_signal_is_404(api: Api) -> None:
    for path in ("/api/v1/signals/01a20c06-0000-7000-8000-000000000000", "/api/v1/signals/not-an-id"):
        status, _, _ = await api.request("GET", path)
        assert status == 404


async def test_pages_walk_every_signal_newest_first_exactly_once(api: Api) -> None:
    ids = await _create(api, 7)
    seen, cursor = [], None
    while True:
        path = "/api/v1/signals?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = await api.request("GET", path)
        assert status == 200 and len(page["signals"]) <= 3
        seen += [s["id"] for s in page["signals"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_filters_by_instrument_and_status(api: Api) -> None:
    await _create(api, 2)
    [eur] = await _create(api, 1, instrument="EURUSD", price=1.072, stop_loss=1.071, take_profit=1.075)
    _, _, page = await api.request("GET", "/api/v1/signals?instrument=EURUSD&status=new")
    assert [s["id"] for s in page["signals"]] == [eur]
    _, _, page = await api.request("GET", "/api/v1/signals?status=approved")
    assert page["signals"] == []


@pytest.mark.parametrize(
    "query, field",
    [("limit=0", "query.limit"), ("limit=201", "query.limit"), ("limit=ten", "query.limit"),
     ("status=open", "query.status"), ("cursor=zzz", "query.cursor"), ("colour=red", "query.colour")],
)
async def test_bad_query_parameters_are_422(api: Api, query: str, field: str) -> None:
    status, _, problem = await api.request("GET", f"/api/v1/signals?{query}")
    assert status == 422 and [e["field"] for e in problem["errors"]] == [field]


async def test_limit_of_200_is_allowed(api: Api) -> None:
    status, _, _ = await api.request("GET", "/api/v1/signals?limit=200")
    assert status == 200


async def test_reading_requires_a_signature(api: Api) -> None:
    async with api.session.get(api.base_url + "/api/v1/signals") as r:
        assert r.status == 401
