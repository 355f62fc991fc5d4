"""A stand-in for the `MetaTrader5` package: the same constants, functions and namedtuple results, with a
small simulated trade server behind them (market deals, pending orders, positions, history).

Like the real package it answers None (and sets last_error) when it cannot reach the terminal, validates
requests the way a trade server does (volume, price side, stops side, expiration) and never raises on a
refused request: the refusal is in the result's retcode. Tests steer it with `script_retcode`,
`lose_next_reply` and `set_tick`, and read `sent` (every request) and `call_threads`."""

from __future__ import annotations

import threading
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

TRADE_ACTION_DEAL = 1
TRADE_ACTION_PENDING = 5
TRADE_ACTION_SLTP = 6
TRADE_ACTION_MODIFY = 7
TRADE_ACTION_REMOVE = 8
ORDER_TYPE_BUY, ORDER_TYPE_SELL, ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT, ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP = range(6)
ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN = range(3)
ORDER_TIME_GTC, ORDER_TIME_DAY, ORDER_TIME_SPECIFIED, ORDER_TIME_SPECIFIED_DAY = range(4)
ORDER_STATE_STARTED, ORDER_STATE_PLACED, ORDER_STATE_CANCELED, ORDER_STATE_PARTIAL, ORDER_STATE_FILLED = range(5)
ORDER_STATE_REJECTED, ORDER_STATE_EXPIRED = 5, 6
POSITION_TYPE_BUY, POSITION_TYPE_SELL = 0, 1
SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC = 1, 2
TRADE_RETCODE_REQUOTE = 10004
TRADE_RETCODE_REJECT = 10006
TRADE_RETCODE_PLACED = 10008
TRADE_RETCODE_DONE = 10009
TRADE_RETCODE_INVALID = 10013
TRADE_RETCODE_INVALID_VOLUME = 10014
TRADE_RETCODE_INVALID_PRICE = 10015
TRADE_RETCODE_INVALID_STOPS = 10016
TRADE_RETCODE_MARKET_CLOSED = 10018
TRADE_RETCODE_NO_MONEY = 10019
TRADE_RETCODE_INVALID_EXPIRATION = 10022
RES_S_OK = 1
RES_E_INTERNAL_FAIL_CONNECT = -10004
RES_E_AUTH_FAILED = -6

TradeRequest = namedtuple(
    "TradeRequest",
    "action magic order symbol volume price stoplimit sl tp deviation type type_filling type_time expiration "
    "comment position position_by",
)
OrderSendResult = namedtuple(
    "OrderSendResult", "retcode deal order volume price bid ask comment request_id retcode_external request"
)
OrderCheckResult = namedtuple(
    "OrderCheckResult", "retcode balance equity profit margin margin_free margin_level comment request"
)
AccountInfo = namedtuple("AccountInfo", "login trade_mode leverage balance credit profit equity margin margin_free currency server")
SymbolInfo = namedtuple(
    "SymbolInfo", "name visible point digits volume_min volume_max volume_step trade_contract_size filling_mode"
)
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")
TradeOrder = namedtuple(
    "TradeOrder",
    "ticket time_setup time_expiration type type_time type_filling state magic position_id volume_initial "
    "volume_current price_open sl tp price_current symbol comment",
)
TradePosition = namedtuple(
    "TradePosition",
    "ticket time type magic identifier volume price_open sl tp price_current swap profit symbol comment",
)
TradeDeal = namedtuple(
    "TradeDeal", "ticket order time type entry magic position_id volume price commission swap profit symbol comment"
)

_BUYS = {ORDER_TYPE_BUY, ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_BUY_STOP}


@dataclass
class FakeSymbol:
    name: str
    point: float
    digits: int
    contract_size: float
    volume_min: float = 0.01
    volume_step: float = 0.01
    filling_mode: int = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC


@dataclass
class FakeMT5:
    """Use an instance as the module: `MT5Broker(..., module=FakeMT5())`."""

    login: int = 5001
    password: str = "secret"
    server: str = "Demo-Server"
    balance: float = 10_000.0
    currency: str = "USD"
    symbols: dict[str, FakeSymbol] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    call_threads: set[str] = field(default_factory=set)
    initialize_args: tuple[Any, ...] = ()
    _connected: bool = False
    _error: tuple[int, str] = (RES_S_OK, "Success")
    _ticks: dict[str, Tick] = field(default_factory=dict)
    _orders: dict[int, TradeOrder] = field(default_factory=dict)
    _positions: dict[int, TradePosition] = field(default_factory=dict)
    _history_orders: list[TradeOrder] = field(default_factory=list)
    _deals: list[TradeDeal] = field(default_factory=list)
    _scripted: list[int] = field(default_factory=list)
    _lose_reply: bool = False
    _next_ticket: int = 1000

    def __post_init__(self) -> None:
        for constant, value in globals().items():
            if constant.isupper():
                setattr(self, constant, value)
        self.symbols = self.symbols or {
            "EURUSD": FakeSymbol("EURUSD", 0.00001, 5, 100_000),
            "XAUUSD": FakeSymbol("XAUUSD", 0.01, 2, 100),
        }

    # --- steering ---

    def set_tick(self, symbol: str, bid: float, ask: float, at: int = 1_795_000_000) -> None:
        self._ticks[symbol] = Tick(at, bid, ask, 0.0, 0, at * 1000, 0, 0.0)

    def script_retcode(self, *codes: int) -> None:
        """The next order_send calls answer these retcodes without executing."""
        self._scripted.extend(codes)

    def lose_next_reply(self) -> None:
        """The next order_send executes but its answer is lost (None), as when the terminal disconnects."""
        self._lose_reply = True

    # --- the package API ---

    def initialize(self, path: str | None = None, *, login: int, password: str, server: str, timeout: int = 60_000) -> bool:
        self._record()
        self.initialize_args = (path, login, password, server)
        if (login, password, server) != (self.login, self.password, self.server):
            self._error = (RES_E_AUTH_FAILED, "Terminal: Authorization failed")
            return False
        self._connected, self._error = True, (RES_S_OK, "Success")
        return True

    def shutdown(self) -> None:
        self._record()
        self._connected = False

    def last_error(self) -> tuple[int, str]:
        return self._error

    def account_info(self) -> AccountInfo | None:
        if not self._online():
            return None
        profit = sum(p.profit for p in self._positions.values())
        equity = self.balance + profit
        return AccountInfo(self.login, 0, 100, self.balance, 0.0, profit, equity, 0.0, self.balance, self.currency, self.server)

    def symbol_select(self, symbol: str, enable: bool) -> bool:
        return self._online() and symbol in self.symbols

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        if not self._online() or symbol not in self.symbols:
            return None
        s = self.symbols[symbol]
        return SymbolInfo(
            s.name, True, s.point, s.digits, s.volume_min, 100.0, s.volume_step, s.contract_size, s.filling_mode
        )

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        return self._ticks.get(symbol) if self._online() else None

    def orders_get(self, symbol: str | None = None, group: str | None = None, ticket: int | None = None) -> Any:
        if not self._online():
            return None
        return tuple(o for o in self._orders.values() if _matches(o, symbol, ticket))

    def positions_get(self, symbol: str | None = None, group: str | None = None, ticket: int | None = None) -> Any:
        if not self._online():
            return None
        return tuple(p for p in self._positions.values() if _matches(p, symbol, ticket))

    def history_orders_get(
        self, date_from: int | None = None, date_to: int | None = None, group: str | None = None, ticket: int | None = None
    ) -> Any:
        if not self._online():
            return None
        return tuple(
            o for o in self._history_orders
            if _matches(o, group, ticket) and (date_from is None or date_from <= o.time_setup <= date_to)
        )

    def history_deals_get(
        self, date_from: int | None = None, date_to: int | None = None, group: str | None = None, ticket: int | None = None
    ) -> Any:
        if not self._online():
            return None
        return tuple(d for d in self._deals if ticket is None or d.ticket == ticket)

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        if not self._online():
            return None
        code = self._validate(request)
        ok = code == TRADE_RETCODE_DONE  # order_check says 0 ("Done") where order_send would say 10009
        balance = self.balance
        return OrderCheckResult(
            0 if ok else code, balance, balance, 0.0, 0.0, balance, 0.0, "Done" if ok else "Refused", _trade_request(request)
        )

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        if not self._online():
            return None
        self.sent.append(dict(request))
        if self._scripted:
            return self._result(self._scripted.pop(0), request)
        code = self._validate(request)
        if code != TRADE_RETCODE_DONE:
            return self._result(code, request)
        action = request["action"]
        if action == TRADE_ACTION_REMOVE:
            result = self._remove(request)
        elif "position" in request:
            result = self._close(request)
        elif action == TRADE_ACTION_PENDING:
            result = self._pend(request)
        else:
            result = self._deal(request)
        if self._lose_reply:
            self._lose_reply, self._error = False, (RES_E_INTERNAL_FAIL_CONNECT, "IPC send failed")
            return None
        return result

    # --- the simulated server ---

    def _validate(self, r: dict[str, Any]) -> int:
        self._record()
        action = r.get("action")
        if action == TRADE_ACTION_REMOVE:
            return TRADE_RETCODE_DONE if r.get("order") in self._orders else TRADE_RETCODE_INVALID
        symbol = self.symbols.get(r.get("symbol", ""))
        tick = self._ticks.get(r.get("symbol", ""))
        if symbol is None or tick is None or action not in (TRADE_ACTION_DEAL, TRADE_ACTION_PENDING):
            return TRADE_RETCODE_INVALID
        if not isinstance(r.get("comment", ""), str) or len(r.get("comment", "")) > 31:
            return TRADE_RETCODE_INVALID
        volume = r.get("volume", 0.0)
        steps = volume / symbol.volume_step
        if volume < symbol.volume_min or abs(steps - round(steps)) > 1e-6:
            return TRADE_RETCODE_INVALID_VOLUME
        kind, price = r.get("type"), r.get("price", 0.0)
        buy = kind in _BUYS
        if action == TRADE_ACTION_DEAL:
            market = tick.ask if buy else tick.bid
            if abs(price - market) > r.get("deviation", 0) * symbol.point + 1e-9:
                return TRADE_RETCODE_REQUOTE
        else:
            valid = {
                ORDER_TYPE_BUY_LIMIT: price < tick.ask, ORDER_TYPE_BUY_STOP: price > tick.ask,
                ORDER_TYPE_SELL_LIMIT: price > tick.bid, ORDER_TYPE_SELL_STOP: price < tick.bid,
            }
            if not valid.get(kind, False):
                return TRADE_RETCODE_INVALID_PRICE
            if r.get("type_time") == ORDER_TIME_SPECIFIED and r.get("expiration", 0) <= tick.time:
                return TRADE_RETCODE_INVALID_EXPIRATION
        sl, tp = r.get("sl", 0.0), r.get("tp", 0.0)
        if "position" not in r and ((sl and (sl >= price) == buy) or (tp and (tp <= price) == buy)):
            return TRADE_RETCODE_INVALID_STOPS
        return TRADE_RETCODE_DONE

    def _pend(self, r: dict[str, Any]) -> OrderSendResult:
        ticket = self._ticket()
        tick = self._ticks[r["symbol"]]
        self._orders[ticket] = TradeOrder(
            ticket, tick.time, r.get("expiration", 0), r["type"], r["type_time"], r["type_filling"], ORDER_STATE_PLACED,
            r["magic"], 0, r["volume"], r["volume"], r["price"], r["sl"], r["tp"], r["price"], r["symbol"], r["comment"],
        )
        return self._result(TRADE_RETCODE_PLACED, r, order=ticket)

    def _deal(self, r: dict[str, Any]) -> OrderSendResult:
        ticket = self._ticket()
        tick = self._ticks[r["symbol"]]
        position_type = POSITION_TYPE_BUY if r["type"] == ORDER_TYPE_BUY else POSITION_TYPE_SELL
        self._positions[ticket] = TradePosition(
            ticket, tick.time, position_type, r["magic"], ticket, r["volume"], r["price"], r["sl"], r["tp"],
            r["price"], 0.0, 0.0, r["symbol"], r["comment"],
        )
        self._history_orders.append(TradeOrder(
            ticket, tick.time, 0, r["type"], r["type_time"], r["type_filling"], ORDER_STATE_FILLED, r["magic"], ticket,
            r["volume"], 0.0, r["price"], r["sl"], r["tp"], r["price"], r["symbol"], r["comment"],
        ))
        deal = self._add_deal(ticket, ticket, r, profit=0.0)
        return self._result(TRADE_RETCODE_DONE, r, order=ticket, deal=deal)

    def _close(self, r: dict[str, Any]) -> OrderSendResult:
        position = self._positions.pop(r["position"])
        size = self.symbols[position.symbol].contract_size
        sign = 1 if position.type == POSITION_TYPE_BUY else -1
        profit = round(sign * (r["price"] - position.price_open) * position.volume * size, 2)
        self.balance += profit
        deal = self._add_deal(self._ticket(), position.ticket, r, profit=profit)
        return self._result(TRADE_RETCODE_DONE, r, deal=deal)

    def _remove(self, r: dict[str, Any]) -> OrderSendResult:
        order = self._orders.pop(r["order"])
        self._history_orders.append(order._replace(state=ORDER_STATE_CANCELED))
        return self._result(TRADE_RETCODE_DONE, r, order=order.ticket)

    def _add_deal(self, order: int, position: int, r: dict[str, Any], *, profit: float) -> int:
        ticket = self._ticket()
        self._deals.append(TradeDeal(
            ticket, order, self._ticks[r["symbol"]].time, r["type"], 0, r["magic"], position, r["volume"], r["price"],
            -0.7, 0.0, profit, r["symbol"], r.get("comment", ""),
        ))
        return ticket

    def _result(self, code: int, r: dict[str, Any], *, order: int = 0, deal: int = 0) -> OrderSendResult:
        tick = self._ticks.get(r.get("symbol", ""))
        bid, ask = (tick.bid, tick.ask) if tick else (0.0, 0.0)
        comment = "Request executed" if code in (TRADE_RETCODE_DONE, TRADE_RETCODE_PLACED) else "Refused"
        return OrderSendResult(code, deal, order, r.get("volume", 0.0), r.get("price", 0.0), bid, ask, comment, 1, 0, _trade_request(r))

    def _ticket(self) -> int:
        self._next_ticket += 1
        return self._next_ticket

    def _online(self) -> bool:
        self._record()
        if not self._connected:
            self._error = (RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
        return self._connected

    def _record(self) -> None:
        self.call_threads.add(threading.current_thread().name)


def _matches(item: Any, symbol: str | None, ticket: int | None) -> bool:
    return (symbol is None or item.symbol == symbol) and (ticket is None or item.ticket == ticket)


def _trade_request(r: dict[str, Any]) -> TradeRequest:
    return TradeRequest(**{name: r.get(name, 0) for name in TradeRequest._fields})
