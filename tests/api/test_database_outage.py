"""Database down: 503 with Retry-After, nothing half-written, recovery without a restart."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import make_settings
from tests.support import signal_body
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_outage_answers_503_and_recovers(api_factory: Any, database_url: str) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    api = await api_factory(make_settings(url.set(port=proxy.port).render_as_string(hide_password=False)))
    assert (await api.post_signal(signal_body(external_id="before")))[0] == 201

    await proxy.cut()
    status, headers, problem = await api.post_signal(signal_body(external_id="during", version=2))
    assert status == 503
    assert headers["Retry-After"] == "5" and problem["type"] == "/problems/storage-unavailable"
    async with api.session.get(api.base_url + "/readyz") as r:
        assert r.status == 503
    status, _, _ = await api.request("GET", "/api/v1/signals")
    assert status == 503

    await proxy.start()  # the database is back on the same address
    assert (await api.post_signal(signal_body(external_id="after", version=3)))[0] == 201
    _, _, page = await api.request("GET", "/api/v1/signals")
    assert [s["external_id"] for s in page["signals"]] == ["after", "before"]  # "during" was never written
