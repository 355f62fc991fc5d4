"""/healthz, /readyz, /metrics and the OpenAPI document."""

from __future__ import annotations

from tests.conftest import Api


async def test_health_and_readiness(api: Api) -> None:
    async with api.session.get(api.base_url + "/healthz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"
    async with api.session.get(api.base_url + "/readyz") as r:
        assert r.status == 200 and (await r.json()) == {"status": "ready", "database": "up"}


async def test_metrics_are_prometheus_text(api: Api) -> None:
    async with api.session.get(api.base_url + "/metrics") as r:
        assert r.status == 200 and r.content_type == "text/plain"
        assert "# TYPE signaldesk_signal_ingest_seconds histogram" in await r.text()


async def test_openapi_describes_every_status_of_the_contract(api: Api) -> None:
    async with api.session.get(api.base_url + "/api/v1/openapi.json") as r:
        spec = await r.json()
    assert spec["openapi"] == "3.1.0"
    post = spec["paths"]["/api/v1/signals"]["post"]["responses"]
    assert set(post) == {"200", "201", "400", "401", "404", "409", "413", "415", "422", "429", "503"}
    assert spec["components"]["schemas"]["SignalIn"]["additionalProperties"] is False
