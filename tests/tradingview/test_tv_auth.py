"""401 for every alert that cannot prove its producer or is not fresh; the token is never echoed or logged."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api
from tests.support import OTHER_PRODUCER_ID, rfc3339
from tests.tradingview.tv_alerts import (
    MESSAGE_SHAPES,
    OTHER_TOKEN,
    ROTATED_TOKEN,
    TOKEN,
    alert_fields,
    json_message,
    send_like_tradingview,
    text_message,
    tv_settings,
)


@pytest.mark.parametrize("shape", MESSAGE_SHAPES)
async def test_wrong_token_is_401(tv_api: Api, shape: str) -> None:
    wrong = TOKEN[:-4] + "AAAA"
    status, _, problem = await send_like_tradingview(tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api, token=wrong)))
    assert status == 401 and problem["type"] == "/problems/bad-token"
    assert problem["detail"] == "token does not match producer 'alpha'"


@pytest.mark.parametrize("shape", MESSAGE_SHAPES)
async def test_token_of_another_producer_is_401(tv_api: Api, shape: str) -> None:
    status, _, problem = await send_like_tradingview(tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api, token=OTHER_TOKEN)))
    assert status == 401 and problem["type"] == "/problems/bad-token"
    # ...and the other producer's own URL takes it.
    status, _, signal = await send_like_tradingview(
        tv_api, MESSAGE_SHAPES[shape](alert_fields(tv_api, token=OTHER_TOKEN)), producer_id=OTHER_PRODUCER_ID
    )
    assert status == 201 and signal["producer_id"] == OTHER_PRODUCER_ID


async def test_either_token_works_while_rotating(tv_api: Api) -> None:
    assert (await send_like_tradingview(tv_api, text_message(alert_fields(tv_api))))[0] == 201
    fields = alert_fields(tv_api, token=ROTATED_TOKEN, time="2026-11-23T09:00:00Z")
    assert (await send_like_tradingview(tv_api, text_message(fields)))[0] == 201


@pytest.mark.parametrize(
    "token, kind, detail",
    [
        (None, "missing-token", "the alert has no token field"),
        ("", "missing-token", "the alert has no token field"),
        ("hunter2", "bad-token", "token is not a SignalDesk TradingView token"),
        ("{{token}}", "bad-token", "token is not a SignalDesk TradingView token"),
    ],
)
async def test_missing_or_weak_token_is_401(tv_api: Api, token: str | None, kind: str, detail: str) -> None:
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, token=token)))
    assert status == 401 and problem["type"] == f"/problems/{kind}" and problem["detail"].startswith(detail)


async def test_json_token_that_is_not_a_string_is_401(tv_api: Api) -> None:
    status, _, problem = await send_like_tradingview(tv_api, json_message(alert_fields(tv_api, token=12345)))
    assert status == 401 and problem["type"] == "/problems/missing-token"


@pytest.mark.parametrize("producer_id", ["mallory", "x" * 300])
async def test_unknown_producer_is_401(tv_api: Api, producer_id: str) -> None:
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)), producer_id=producer_id)
    assert status == 401 and problem["type"] == "/problems/no-token-configured"


async def test_producer_without_tradingview_token_is_401(api_factory: Any, database_url: str) -> None:
    from tests.conftest import make_settings

    api = await api_factory(make_settings(database_url, tradingview={"allowed_ips": []}))
    status, _, problem = await send_like_tradingview(api, text_message(alert_fields(api)))
    assert status == 401 and "add tradingview_token_sha256" in problem["detail"]


@pytest.mark.parametrize("age, accepted", [(60, True), (61, False), (3600, False), (-60, True), (-61, False)])
async def test_timenow_must_be_within_the_configured_lag(tv_api: Api, age: int, accepted: bool) -> None:
    fired = rfc3339(tv_api.clock.now() - timedelta(seconds=age))
    status, _, body = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, timenow=fired)))
    assert status == (201 if accepted else 401), body
    if not accepted:
        assert body["type"] == "/problems/stale-timestamp"
        assert body["detail"].startswith(f"alert fired {abs(age)} s {'old' if age > 0 else 'ahead of server time'}")


async def test_configured_lag_is_used(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, max_alert_age_seconds=5))
    fired = rfc3339(api.clock.now() - timedelta(seconds=6))
    status, _, problem = await send_like_tradingview(api, text_message(alert_fields(api, timenow=fired)))
    assert status == 401 and "at most 5 s allowed" in problem["detail"]


@pytest.mark.parametrize(
    "timenow, kind", [(None, "missing-timenow"), ("{{timenow}}", "stale-timestamp"), ("yesterday", "stale-timestamp")]
)
async def test_missing_or_garbled_timenow_is_401(tv_api: Api, timenow: str | None, kind: str) -> None:
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, timenow=timenow)))
    assert status == 401 and problem["type"] == f"/problems/{kind}"


async def test_stale_alert_with_a_wrong_token_says_only_wrong_token(tv_api: Api) -> None:
    stale = rfc3339(tv_api.clock.now() - timedelta(hours=1))
    fields = alert_fields(tv_api, token=OTHER_TOKEN, timenow=stale)
    status, _, problem = await send_like_tradingview(tv_api, text_message(fields))
    assert status == 401 and problem["type"] == "/problems/bad-token"


async def test_token_is_never_logged(tv_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)))
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api)))  # 409
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, ticker="NOPE:NOPE")))  # 422
    await send_like_tradingview(tv_api, f"{TOKEN}\nticker=OANDA:XAUUSD")  # 400: a token pasted without key
    await send_like_tradingview(tv_api, f"{TOKEN}=1\n")  # a token pasted as a key: 401
    await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, token=TOKEN + "x")))  # 401
    assert "event=request_refused" in caplog.text
    assert TOKEN not in caplog.text
