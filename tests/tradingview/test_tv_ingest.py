"""A TradingView alert becomes the same signal the signed API creates: same rules, same dedup."""

from __future__ import annotations

from typing import Any

import pytest

from core.tradingview import KNOWN_FIELDS, REQUIRED_FIELDS
from tests.conftest import Api
from tests.support import PRODUCER_ID
from tests.tradingview.tv_alerts import (
    BAR_TIME,
    MESSAGE_SHAPES,
    alert_fields,
    send_like_tradingview,
    text_message,
    tv_settings,
)


@pytest.mark.parametrize("shape", MESSAGE_SHAPES)
async def test_alert_is_accepted_as_a_signal(tv_api: Api, shape: str) -> None:
    status, headers, signal = await send_like_tradingview(tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api)))
    assert status == 201, signal
    assert headers["Location"] == f"/api/v1/signals/{signal['id']}"
    assert signal["producer_id"] == PRODUCER_ID and signal["status"] == "new"
    assert (signal["instrument"], signal["side"], signal["price"], signal["stop_loss"], signal["take_profit"]) == (
        "XAUUSD", "buy", 2400.5, 2390, 2420,
    )
    assert signal["time"] == BAR_TIME
    assert signal["external_id"] == f"tv:XAUUSD:buy:{BAR_TIME}"
    assert signal["payload"] == {
        "source": "tradingview", "ticker": "OANDA:XAUUSD", "timenow": BAR_TIME, "interval": "60",
    }
    # The producer reads it back through the signed API like any other signal.
    status, _, stored = await tv_api.request("GET", f"/api/v1/signals/{signal['id']}")
    assert status == 200 and stored == signal


async def test_json_numbers_may_be_unquoted(tv_api: Api) -> None:
    message = (
        '{"token": "%s", "ticker": "OANDA:XAUUSD", "action": "sell", "price": 2400.5, "stop": 2410.25, '
        '"target": 2380, "time": "%s", "timenow": "%s"}'
    ) % (alert_fields(tv_api)["token"], BAR_TIME, BAR_TIME)
    status, _, signal = await send_like_tradingview(tv_api, message)
    assert status == 201, signal
    assert (signal["side"], signal["stop_loss"], signal["take_profit"]) == ("sell", 2410.25, 2380)


@pytest.mark.parametrize(
    "side, position, stop, target", [("buy", "long", 2390.5, 2420.5), ("sell", "short", 2410.5, 2380.5)]
)
async def test_fixed_distances_are_in_the_instruments_points(
    tv_api: Api, side: str, position: str, stop: float, target: float,
) -> None:
    fields = alert_fields(tv_api, action=side, position=position, stop=None, target=None,
                          stop_points="1000", target_points="2000")
    status, _, signal = await send_like_tradingview(tv_api, text_message(fields))
    assert status == 201, signal
    assert (signal["stop_loss"], signal["take_profit"]) == (stop, target)  # gold's point is 0.01


async def test_plot_values_with_float_noise_are_accepted(tv_api: Api) -> None:
    fields = alert_fields(tv_api, stop="2390.123456789012345", target="2420.000000000000001")
    status, _, signal = await send_like_tradingview(tv_api, text_message(fields))
    assert status == 201, signal
    assert (signal["stop_loss"], signal["take_profit"]) == (2390.1234567890, 2420)


@pytest.mark.parametrize("shape", MESSAGE_SHAPES)
async def test_refired_alert_is_409_naming_the_original(tv_api: Api, shape: str) -> None:
    _, _, original = await send_like_tradingview(tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api)))
    tv_api.clock.advance(30)  # TradingView fires the same bar's alert again, with a fresh {{timenow}}
    status, _, problem = await send_like_tradingview(tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api)))
    assert status == 409
    assert problem["type"] == "/problems/duplicate-signal"
    assert problem["existing_signal_id"] == original["id"] and original["id"] in problem["detail"]
    assert f"tv:XAUUSD:buy:{BAR_TIME}" in problem["detail"]


async def test_refired_alert_is_refused_long_after_the_dedup_window(tv_api: Api) -> None:
    _, _, original = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)))
    tv_api.clock.advance(24 * 3600)
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)))
    assert status == 409 and problem["existing_signal_id"] == original["id"]


async def test_next_bar_is_a_new_signal(tv_api: Api) -> None:
    assert (await send_like_tradingview(tv_api, text_message(alert_fields(tv_api))))[0] == 201
    tv_api.clock.advance(3600)
    fields = alert_fields(tv_api, time="2026-11-23T11:00:00Z")
    assert (await send_like_tradingview(tv_api, text_message(fields)))[0] == 201


async def test_ticker_mapping_from_configuration(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, tickers={"BINANCE:BTCUSDT.P": "BTCUSD", "ETHUSDT": "ETHUSD"}))
    cases = [("BINANCE:BTCUSDT.P", "BTCUSD", "90000"), ("BYBIT:ETHUSDT.P", "ETHUSD", "3000"),
             ("OANDA:EURUSD", "EURUSD", "1.2345"), ("FX:GBPJPY", "GBPJPY", "190.5")]
    for hour, (ticker, instrument, price) in enumerate(cases):
        fields = alert_fields(api, ticker=ticker, price=price, stop=None, target=None,
                              stop_points="500", target_points="1000", time=f"2026-11-23T0{hour}:00:00Z")
        status, _, signal = await send_like_tradingview(api, text_message(fields))
        assert status == 201, (ticker, signal)
        assert signal["instrument"] == instrument and signal["payload"]["ticker"] == ticker


async def test_order_rules_apply_as_on_the_signed_api(tv_api: Api) -> None:
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, target="2410")))
    assert status == 422 and problem["type"] == "/problems/invalid-signal"
    assert problem["errors"] == [{"field": "take_profit", "reason": "reward:risk is 0.90; at least 1.5 is required"}]


@pytest.mark.parametrize("action, position", [("sell", "flat"), ("sell", "long"), ("buy", "short")])
async def test_exit_orders_are_not_signals(tv_api: Api, action: str, position: str) -> None:
    fields = alert_fields(tv_api, action=action, position=position)
    status, _, problem = await send_like_tradingview(tv_api, text_message(fields))
    assert status == 422
    assert problem["errors"][0]["field"] == "position" and "not a new signal" in problem["errors"][0]["reason"]


async def test_indicator_alert_without_position(tv_api: Api) -> None:
    fields = alert_fields(tv_api, action="SELL", position=None, stop="2410", target="2380")
    assert (await send_like_tradingview(tv_api, text_message(fields)))[0] == 201


async def test_accepted_and_refused_alerts_are_counted(tv_api: Api) -> None:
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)))
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, token="x" * 43)))
    async with tv_api.session.get(tv_api.base_url + "/metrics") as r:
        metrics = await r.text()
    assert 'signaldesk_signals_ingested_total{instrument="XAUUSD",side="buy"} 1.0' in metrics
    assert 'signaldesk_signals_rejected_total{reason="bad_token"} 1.0' in metrics


async def test_openapi_documents_the_endpoint(tv_api: Api) -> None:
    async with tv_api.session.get(tv_api.base_url + "/api/v1/openapi.json") as r:
        spec = await r.json()
    post = spec["paths"]["/api/v1/tradingview/{producer_id}"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert set(post["responses"]) == {"201", "400", "401", "403", "409", "413", "415", "422", "429", "503"}
    schema = spec["components"]["schemas"]["TradingViewAlert"]
    assert schema["required"] == list(REQUIRED_FIELDS) and set(schema["properties"]) == KNOWN_FIELDS
