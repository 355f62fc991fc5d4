"""Instrument specifications: the point size makes a stop distance "in points" mean the same on EURUSD and gold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    point: Decimal
    contract_size: Decimal = Decimal(100_000)
    volume_step: Decimal = Decimal("0.01")
    min_volume: Decimal = Decimal("0.01")
    # Prices and profits are in this currency (JPY for USDJPY); None: the account's own currency.
    quote_currency: str | None = None

    @property
    def decimals(self) -> int:
        """How many decimals its prices are shown with: 5 for EURUSD (point 0.00001), 2 for XAUUSD."""
        return max(0, -int(self.point.as_tuple().exponent))


def _fx(name: str) -> InstrumentSpec:
    return InstrumentSpec(name, Decimal("0.001") if name.endswith("JPY") else Decimal("0.00001"), quote_currency=name[3:])


def _index(name: str, currency: str, point: Decimal = Decimal("0.01")) -> InstrumentSpec:
    one, tenth = Decimal(1), Decimal("0.1")
    return InstrumentSpec(name, point, contract_size=one, volume_step=tenth, min_volume=tenth, quote_currency=currency)


_FX_PAIRS = (
    "EURUSD GBPUSD AUDUSD NZDUSD USDCAD USDCHF EURGBP EURCHF EURAUD EURCAD GBPCHF AUDCAD AUDNZD "
    "USDJPY EURJPY GBPJPY AUDJPY CADJPY CHFJPY NZDJPY"
).split()

BUILTIN_INSTRUMENTS: Mapping[str, InstrumentSpec] = {
    **{name: _fx(name) for name in _FX_PAIRS},
    "XAUUSD": InstrumentSpec("XAUUSD", Decimal("0.01"), contract_size=Decimal(100), quote_currency="USD"),
    "XAGUSD": InstrumentSpec("XAGUSD", Decimal("0.001"), contract_size=Decimal(5000), quote_currency="USD"),
    "US30": _index("US30", "USD", point=Decimal("0.1")),
    "US500": _index("US500", "USD"),
    "NAS100": _index("NAS100", "USD"),
    "GER40": _index("GER40", "EUR"),
    "BTCUSD": InstrumentSpec("BTCUSD", Decimal("0.01"), contract_size=Decimal(1), quote_currency="USD"),
    "ETHUSD": InstrumentSpec("ETHUSD", Decimal("0.01"), contract_size=Decimal(1), quote_currency="USD"),
}


class InstrumentTable:
    """Built-in specs overridden by configuration; unknown instruments fall back to `default_point`."""

    def __init__(self, overrides: Mapping[str, InstrumentSpec], default_point: Decimal) -> None:
        self._specs = {**BUILTIN_INSTRUMENTS, **overrides}
        self._default_point = default_point

    def spec(self, name: str) -> InstrumentSpec:
        return self._specs.get(name) or InstrumentSpec(name, self._default_point)
