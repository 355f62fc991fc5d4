"""Money in the account's currency: a stop on USDJPY loses yen and a profit on EURGBP is in pounds, yet a
dollar account must size and book both in dollars, converted at the latest quote of a pair that converts
them (hand-computed below)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.app import instrument_table
from bot.brokers.paper import PaperBroker
from bot.config import ConfigError
from core.currency import quote_currency_value
from core.memory_trade_store import InMemoryTradeStore
from core.order_rules import position_size
from core.orders import OrderKind
from core.quotes import Quote
from core.signals import Side
from tests.conftest import make_settings
from tests.execution.exec_support import TABLE, D, quote, request
from tests.support import START, FakeClock


def quotes(*held: Quote):  # type: ignore[no-untyped-def]
    by_instrument = {q.instrument: q for q in held}

    async def latest(instrument: str) -> Quote | None:
        return by_instrument.get(instrument)

    return latest


@pytest.mark.parametrize(
    ("instrument", "account", "held", "value"),
    [
        ("EURUSD", "USD", [], D(1)),  # already in dollars
        ("XAUUSD", "USD", [], D(1)),
        ("SOMETHING", "USD", [], D(1)),  # not built in, no quote_currency configured: the account's own
        ("EURGBP", "USD", [quote("1.25000", "1.25020", instrument="GBPUSD")], D("1.2501")),  # direct: GBPUSD's mid
        ("USDJPY", "USD", [quote("150.000", "150.020", instrument="USDJPY")], 1 / D("150.010")),  # inverse
        ("XAUUSD", "EUR", [quote("1.10000", "1.10000", instrument="EURUSD")], 1 / D("1.1")),  # a euro account
        ("GER40", "EUR", [], D(1)),
        ("EURJPY", "USD", [quote("160.000", "160.020", instrument="EURJPY")], None),  # needs USDJPY or JPYUSD
    ],
)
async def test_the_value_of_a_quote_currency_unit_in_the_account_currency(
    instrument: str, account: str, held: list[Quote], value: Decimal | None
) -> None:
    assert await quote_currency_value(TABLE.spec(instrument), account, quotes(*held)) == value


@pytest.mark.parametrize(
    ("instrument", "stop_distance", "value", "volume"),
    [
        # 1 % of 10,000 = 100 USD. EURUSD: 0.00500 x 100,000 = 500 USD a lot -> 0.20.
        ("EURUSD", "0.00500", D(1), "0.20"),
        # USDJPY: 0.400 x 100,000 = 40,000 JPY a lot = 266.67 USD at 150 -> 0.37 (unconverted: 0.0025, refused).
        ("USDJPY", "0.400", 1 / D(150), "0.37"),
        # EURGBP: 0.00200 x 100,000 = 200 GBP a lot = 250 USD at 1.25 -> 0.40 (unconverted it would be 0.50).
        ("EURGBP", "0.00200", D("1.25"), "0.40"),
    ],
)
def test_the_size_risks_the_budget_in_the_account_currency(instrument: str, stop_distance: str, value: Decimal, volume: str) -> None:
    assert position_size(D(10000), D(1), D(stop_distance), TABLE.spec(instrument), value) == D(volume)


async def test_a_paper_profit_in_yen_is_booked_in_dollars() -> None:
    broker = PaperBroker(InMemoryTradeStore(), FakeClock(START), TABLE, starting_balance=D(10000), account_currency="USD")
    await broker.on_quote(quote("150.000", "150.020", 1, instrument="USDJPY"))
    await broker.place(request(Side.BUY, "150.020", "149.500", "150.500", volume="0.30", instrument="USDJPY"), OrderKind.MARKET)

    # Marked at the bid 150.100: +0.080 x 0.30 x 100,000 = 2,400 JPY, at the mid 150.110 = 15.99 USD.
    await broker.on_quote(quote("150.100", "150.120", 2, instrument="USDJPY"))
    assert await broker.account_equity("trader-111") == D("10015.99")

    # Closed at the target's bid 150.500: +0.480 x 0.30 x 100,000 = 14,400 JPY, at the mid 150.510 = 95.67 USD.
    [closed] = await broker.on_quote(quote("150.500", "150.520", 3, instrument="USDJPY"))
    assert closed.position is not None and closed.position.pnl == D("95.67")
    assert (await broker.account_equity("trader-111")) == D("10095.67")


async def test_a_configured_quote_currency_is_converted_too() -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db", instruments={"JP225": {"point": "1", "contract_size": "1", "quote_currency": "JPY"}})
    value = await quote_currency_value(instrument_table(settings).spec("JP225"), "USD", quotes(quote("150.000", "150.000", instrument="USDJPY")))
    assert value == 1 / D(150)


def test_a_currency_that_is_no_iso_code_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="broker.currency: must be a three-letter currency code in capitals, such as USD, EUR or JPY .got 'dollars'."):
        make_settings("sqlite+aiosqlite:///unused.db", broker={"currency": "dollars"})
