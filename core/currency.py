"""Converting money from an instrument's quote currency into the account's: a profit on USDJPY is in yen,
a stop on EURGBP loses pounds, and an account in dollars must size and book both in dollars."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from core.instruments import InstrumentSpec
from core.quotes import Quote

QuoteLookup = Callable[[str], Awaitable[Quote | None]]


def conversion_pairs(spec: InstrumentSpec, account_currency: str) -> tuple[str, str]:
    """The instruments whose quote converts `spec`'s currency into the account's: e.g. GBPUSD (direct) or
    USDGBP (inverse) for EURGBP on a dollar account."""
    currency = spec.quote_currency or account_currency
    return currency + account_currency, account_currency + currency


async def quote_currency_value(spec: InstrumentSpec, account_currency: str, latest: QuoteLookup) -> Decimal | None:
    """What one unit of `spec`'s quote currency is worth in the account's currency, at the mid of the
    latest quote of a pair that converts it; 1 when they are the same; None when no quote converts it."""
    if spec.quote_currency in (None, account_currency):
        return Decimal(1)
    direct, inverse = conversion_pairs(spec, account_currency)
    if (quote := await latest(direct)) is not None:
        return quote.mid
    if (quote := await latest(inverse)) is not None:
        return 1 / quote.mid
    return None
