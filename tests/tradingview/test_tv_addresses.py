"""403 unless the alert comes from an allowed address; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

from typing import Any

import pytest

from core.tradingview import TRADINGVIEW_WEBHOOK_IPS, ClientAddressPolicy
from tests.tradingview.tv_alerts import TRADINGVIEW_IPS, alert_fields, send_like_tradingview, text_message, tv_settings


def test_defaults_are_tradingviews_published_addresses() -> None:
    from bot.config import TradingViewSettings

    assert TRADINGVIEW_WEBHOOK_IPS == TRADINGVIEW_IPS
    assert TradingViewSettings().allowed_ips == list(TRADINGVIEW_IPS)
    assert TradingViewSettings().trusted_proxies == []


async def test_address_not_allowed_is_403(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, allowed_ips=list(TRADINGVIEW_IPS)))  # the defaults
    status, _, problem = await send_like_tradingview(api, text_message(alert_fields(api)))
    assert status == 403 and problem["type"] == "/problems/address-not-allowed"
    assert problem["detail"] == "address 127.0.0.1 is not in tradingview.allowed_ips"


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, allowed_ips=list(TRADINGVIEW_IPS)))
    headers = {"X-Forwarded-For": TRADINGVIEW_IPS[0]}
    status, _, _ = await send_like_tradingview(api, text_message(alert_fields(api)), headers=headers)
    assert status == 403


@pytest.mark.parametrize(
    "forwarded_for, expected",
    [
        ([TRADINGVIEW_IPS[0]], 201),
        (["203.0.113.9"], 403),
        ([f"203.0.113.9, {TRADINGVIEW_IPS[1]}"], 201),  # the proxy appended the real peer; the left part is the client's
        ([f"{TRADINGVIEW_IPS[1]}, 203.0.113.9"], 403),  # a forged left part cannot help
        (["203.0.113.9", TRADINGVIEW_IPS[2]], 201),  # repeated headers read as one list
        (["not-an-address"], 403),
        ([], 403),  # no header: the client is the proxy itself
    ],
)
async def test_forwarded_for_from_a_trusted_proxy(
    api_factory: Any, database_url: str, forwarded_for: list[str], expected: int
) -> None:
    api = await api_factory(
        tv_settings(database_url, allowed_ips=list(TRADINGVIEW_IPS), trusted_proxies=["127.0.0.0/8"])
    )
    async with api.session.post(
        f"{api.base_url}/api/v1/tradingview/alpha",
        data=text_message(alert_fields(api)).encode(),
        headers=[("Content-Type", "text/plain; charset=utf-8"), *(("X-Forwarded-For", v) for v in forwarded_for)],
    ) as r:
        assert r.status == expected, await r.text()


async def test_empty_allowlist_allows_any_address(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, allowed_ips=[]))
    assert (await send_like_tradingview(api, text_message(alert_fields(api))))[0] == 201


async def test_address_is_checked_before_the_body_is_read(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, allowed_ips=["10.0.0.0/8"]))
    status, _, _ = await send_like_tradingview(api, b"x" * 100_000)
    assert status == 403


@pytest.mark.parametrize(
    "peer, forwarded, allowed",
    [
        ("::ffff:52.89.214.238", [], True),  # IPv4-mapped IPv6 peer
        ("52.89.214.239", [], False),
        ("10.1.2.3", ["52.32.178.7"], True),
        ("10.1.2.3", ["52.32.178.7, 10.9.9.9"], True),  # two trusted proxies in a row
        ("10.1.2.3", ["10.9.9.9"], False),  # only proxies: the nearest is not allowed
        (None, [], False),
        ("2001:db8::5", [], True),
    ],
)
def test_client_address_policy(peer: str | None, forwarded: list[str], allowed: bool) -> None:
    policy = ClientAddressPolicy([*TRADINGVIEW_IPS, "2001:db8::/32"], ["10.0.0.0/8"])
    assert (policy.refusal(peer, forwarded) is None) is allowed


def test_bad_allowlist_entry_stops_start_up(tmp_path: Any) -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as caught:
        load_settings(None, tradingview={"allowed_ips": ["52.89.214.238", "tradingview.com"]})
    assert caught.value.lines[0].startswith("tradingview.allowed_ips: 'tradingview.com' does not appear to be")
