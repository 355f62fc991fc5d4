"""MT5Broker: the Broker port over the `MetaTrader5` package (Windows-only; it drives a running terminal).

The module object is injected, so the adapter can be tested against a fake; the real one is imported only
when none is given. Every call into it blocks, and the terminal connection is not thread-safe, so all of
them run on one dedicated worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from core.clock import Clock
from core.errors import BrokerError, BrokerRejected, BrokerUnavailable, NoQuote, TradeNotFound
from core.orders import Order, OrderKind, OrderRequest, OrderStatus
from core.signals import Side
from core.trades import CloseReason, Position, pnl

T = TypeVar("T")
MAX_COMMENT = 31  # the terminal refuses longer order comments
_PENDING = frozenset({OrderKind.LIMIT, OrderKind.STOP})
_CHECK_OK = 0  # order_check answers 0 ("Done") when the request would be accepted

# retcode -> (meaning, retryable). Retryable: nothing was executed and the same request may succeed later.
RETCODES: dict[int, tuple[str, bool]] = {
    10004: ("requote: the price changed", True),
    10006: ("request rejected", False),
    10007: ("request cancelled by the trader", False),
    10011: ("request processing error", True),
    10012: ("request cancelled by timeout", True),
    10013: ("invalid request", False),
    10014: ("invalid volume", False),
    10015: ("invalid price", False),
    10016: ("invalid stops", False),
    10017: ("trading is disabled", False),
    10018: ("market is closed", True),
    10019: ("not enough money", False),
    10020: ("prices changed", True),
    10021: ("no quotes to process the request", True),
    10022: ("invalid order expiration", False),
    10024: ("too many requests", True),
    10026: ("autotrading disabled by the server", False),
    10027: ("autotrading disabled in the terminal", False),
    10031: ("no connection with the trade server", True),
    10033: ("limit of pending orders reached", False),
}
SUCCESS = frozenset({10008, 10009, 10010})  # placed, done, done partially


def retcode_error(code: int, comment: str, what: str) -> BrokerError:
    meaning, retryable = RETCODES.get(code, (f"unexpected retcode {code}", False))
    detail = f"MT5 refused {what}: {meaning} (retcode {code}{', ' + comment if comment else ''})"
    return BrokerRejected(detail, code=code, retryable=retryable)


def import_metatrader5() -> Any:
    try:
        import MetaTrader5  # type: ignore[import-not-found]
    except ImportError:
        raise BrokerError(
            "broker.kind = mt5 needs the MetaTrader5 package, which exists only for Windows: run SignalDesk "
            "on the Windows host of the MT5 terminal with `pip install MetaTrader5`, or use broker.kind = paper"
        ) from None
    return MetaTrader5


@dataclasses.dataclass(frozen=True)
class MT5Login:
    login: int
    password: str
    server: str
    path: str | None = None  # terminal64.exe; None lets the package find the installed terminal


class MT5Broker:
    """One MT5 account (`account_id` in SignalDesk). Orders carry `magic` and the idempotency key as their
    comment; only positions with this magic are the desk's.

    `server_utc_offset`: MT5 reports and takes times in the trade server's zone as if it were UTC."""

    def __init__(
        self,
        account_id: str,
        credentials: MT5Login,
        clock: Clock,
        *,
        module: Any | None = None,
        magic: int = 202611,
        deviation_points: int = 10,
        server_utc_offset: timedelta = timedelta(0),
        currency: str = "USD",
    ) -> None:
        self._mt5 = module if module is not None else import_metatrader5()
        self._account_id = account_id
        self._credentials = credentials
        self._clock = clock
        self._magic = magic
        self._deviation = deviation_points
        self._offset = server_utc_offset
        self._currency = currency
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mt5")

    async def connect(self) -> None:
        await self._run(self._connect)

    async def close(self) -> None:
        await self._run(self._mt5.shutdown)
        self._thread.shutdown(wait=True)

    async def place(self, request: OrderRequest, kind: OrderKind) -> Order:
        self._check_account(request.account_id)
        if len(request.idempotency_key) > MAX_COMMENT:
            raise ValueError(f"idempotency key longer than {MAX_COMMENT} characters cannot travel as an MT5 comment")
        return await self._run(partial(self._place, request, kind))

    async def cancel(self, order_id: str) -> None:
        await self._run(partial(self._cancel, int(order_id)))

    async def close_position(self, position_id: str, reason: CloseReason = CloseReason.MANUAL) -> Position:
        return await self._run(partial(self._close_position, int(position_id), reason))

    async def positions(self, account_id: str) -> list[Position]:
        self._check_account(account_id)
        return await self._run(self._positions)

    async def pending_order_ids(self, account_id: str) -> list[str]:
        self._check_account(account_id)
        return await self._run(self._pending_order_ids)

    async def account_equity(self, account_id: str) -> Decimal:
        self._check_account(account_id)
        info = await self._run(self._mt5.account_info)
        if info is None:
            raise self._unavailable("account_info")
        return _dec(info.equity)

    # --- on the MT5 thread ---

    def _connect(self) -> None:
        c = self._credentials
        args = () if c.path is None else (c.path,)
        if not self._mt5.initialize(*args, login=c.login, password=c.password, server=c.server):
            raise self._unavailable("initialize")
        info = self._mt5.account_info()
        if info is None or info.login != c.login:
            raise BrokerError(f"MT5 terminal is logged in to {getattr(info, 'login', None)}, not {c.login}")
        if info.currency != self._currency:
            # Orders are sized in broker.currency: another account currency would risk the wrong amount.
            raise BrokerError(
                f"MT5 account {c.login} is in {info.currency}, but broker.currency is {self._currency}: "
                f'set broker.currency = "{info.currency}" in the config'
            )

    def _place(self, request: OrderRequest, kind: OrderKind) -> Order:
        existing = self._find_placed(request)
        if existing is not None:
            ticket, status = existing
            return Order(str(ticket), request, kind, status, self._clock.now())
        trade = self._trade_request(request, kind)
        self._check(trade, f"{request.side} {request.instrument}")
        result = self._mt5.order_send(trade)
        if result is None:
            # The request may or may not have reached the server; a retry finds it by its comment.
            raise self._unavailable("order_send (order state unknown; placing again is safe)")
        if result.retcode not in SUCCESS:
            raise retcode_error(result.retcode, result.comment, f"{request.side} {request.instrument}")
        status = OrderStatus.NEW if kind in _PENDING else OrderStatus.OPEN
        return Order(str(result.order), request, kind, status, self._clock.now())

    def _find_placed(self, request: OrderRequest) -> tuple[int, OrderStatus] | None:
        """An order this key already placed: pending, open as a position, or done in history."""
        mine = self._is_mine(request.idempotency_key)
        for order in self._mt5.orders_get(symbol=request.instrument) or ():
            if mine(order):
                return order.ticket, OrderStatus.NEW
        for position in self._mt5.positions_get(symbol=request.instrument) or ():
            if mine(position):
                return position.identifier, OrderStatus.OPEN
        # Seconds since the epoch rather than datetimes: no doubt about the zone a naive datetime is read in.
        since = int((self._server_time(request.created_at) - timedelta(days=1)).timestamp())
        until = int((self._server_time(self._clock.now()) + timedelta(days=1)).timestamp())
        for order in self._mt5.history_orders_get(since, until, group=request.instrument) or ():
            if mine(order):
                done = OrderStatus.CLOSED if order.state == self._mt5.ORDER_STATE_FILLED else OrderStatus.CANCELLED
                return order.ticket, done
        return None

    def _trade_request(self, request: OrderRequest, kind: OrderKind) -> dict[str, Any]:
        mt5 = self._mt5
        symbol = request.instrument
        if not mt5.symbol_select(symbol, True):
            raise BrokerRejected(f"MT5 does not know the symbol {symbol}")
        trade: dict[str, Any] = {
            "symbol": symbol,
            "volume": float(request.volume),
            "sl": float(request.stop_loss),
            "tp": float(request.take_profit),
            "magic": self._magic,
            "comment": request.idempotency_key,
        }
        if kind is OrderKind.MARKET:
            return trade | self._market_fields(symbol, request.side)
        return trade | {
            "action": mt5.TRADE_ACTION_PENDING,
            "type": _pending_type(mt5, request.side, kind),
            "price": float(request.entry),
            "type_time": mt5.ORDER_TIME_SPECIFIED,
            "expiration": int(self._server_time(request.expires_at).timestamp()),
            "type_filling": mt5.ORDER_FILLING_RETURN,
        }

    def _market_fields(self, symbol: str, side: Side) -> dict[str, Any]:
        """A deal at the current price, with the fill policy the symbol allows."""
        mt5 = self._mt5
        tick = mt5.symbol_info_tick(symbol)
        if tick is None:
            raise NoQuote(symbol)
        return {
            "action": mt5.TRADE_ACTION_DEAL,
            "type": mt5.ORDER_TYPE_BUY if side is Side.BUY else mt5.ORDER_TYPE_SELL,
            "price": tick.ask if side is Side.BUY else tick.bid,
            "deviation": self._deviation,
            "type_time": mt5.ORDER_TIME_GTC,
            "type_filling": self._market_filling(symbol),
        }

    def _market_filling(self, symbol: str) -> int:
        mt5 = self._mt5
        info = mt5.symbol_info(symbol)
        allowed = info.filling_mode if info is not None else 0
        if allowed & mt5.SYMBOL_FILLING_FOK:
            return int(mt5.ORDER_FILLING_FOK)
        if allowed & mt5.SYMBOL_FILLING_IOC:
            return int(mt5.ORDER_FILLING_IOC)
        return int(mt5.ORDER_FILLING_RETURN)

    def _check(self, trade: dict[str, Any], what: str) -> None:
        """order_check first: a request the server would refuse is refused here, before anything is sent."""
        check = self._mt5.order_check(trade)
        if check is None:
            raise self._unavailable("order_check")
        if check.retcode != _CHECK_OK and check.retcode not in SUCCESS:
            raise retcode_error(check.retcode, check.comment, what)

    def _cancel(self, ticket: int) -> None:
        mt5 = self._mt5
        found = [o for o in mt5.orders_get(ticket=ticket) or () if o.magic == self._magic]
        if not found:
            raise TradeNotFound(f"no pending MT5 order {ticket} of this desk")
        result = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": ticket, "magic": self._magic})
        if result is None:
            raise self._unavailable("order_send (cancel)")
        if result.retcode not in SUCCESS:
            raise retcode_error(result.retcode, result.comment, f"cancelling order {ticket}")

    def _close_position(self, ticket: int, reason: CloseReason) -> Position:
        mt5 = self._mt5
        found = [p for p in mt5.positions_get(ticket=ticket) or () if p.magic == self._magic]
        if not found:
            raise TradeNotFound(f"no open MT5 position {ticket} of this desk")
        position = self._position(found[0])
        closing_side = Side.SELL if position.side is Side.BUY else Side.BUY
        trade = {
            "symbol": position.instrument,
            "volume": float(position.volume),
            "position": ticket,
            "magic": self._magic,
            "comment": f"close {reason}"[:MAX_COMMENT],
        } | self._market_fields(position.instrument, closing_side)
        result = mt5.order_send(trade)
        if result is None:
            raise self._unavailable("order_send (close; position state unknown)")
        if result.retcode not in SUCCESS:
            raise retcode_error(result.retcode, result.comment, f"closing position {ticket}")
        price = _dec(result.price)
        return dataclasses.replace(
            position,
            closed_at=self._clock.now(),
            close_price=price,
            close_reason=reason,
            pnl=self._realised(result.deal, position, price),
        )

    def _realised(self, deal_ticket: int, position: Position, price: Decimal) -> Decimal:
        """The closing deal's profit with its commission and swap; computed from the contract size when
        the terminal has not listed the deal yet."""
        deals = self._mt5.history_deals_get(ticket=deal_ticket) or ()
        if deals:
            deal = deals[0]
            return _dec(deal.profit) + _dec(deal.commission) + _dec(deal.swap)
        info = self._mt5.symbol_info(position.instrument)
        return pnl(position.side, position.open_price, price, position.volume, _dec(info.trade_contract_size))

    def _positions(self) -> list[Position]:
        held = self._mt5.positions_get()
        if held is None:
            raise self._unavailable("positions_get")
        return [self._position(p) for p in held if p.magic == self._magic]

    def _pending_order_ids(self) -> list[str]:
        waiting = self._mt5.orders_get()
        if waiting is None:
            raise self._unavailable("orders_get")
        return [str(o.ticket) for o in waiting if o.magic == self._magic]

    def _position(self, raw: Any) -> Position:
        return Position(
            id=str(raw.ticket),
            account_id=self._account_id,
            order_id=str(raw.identifier),
            instrument=raw.symbol,
            side=Side.BUY if raw.type == self._mt5.POSITION_TYPE_BUY else Side.SELL,
            volume=_dec(raw.volume),
            open_price=_dec(raw.price_open),
            stop_loss=_dec(raw.sl),
            take_profit=_dec(raw.tp),
            opened_at=datetime.fromtimestamp(raw.time, UTC) - self._offset,
        )

    # --- helpers ---

    def _is_mine(self, key: str) -> Callable[[Any], bool]:
        return lambda item: item.magic == self._magic and item.comment == key

    def _server_time(self, moment: datetime) -> datetime:
        return moment + self._offset

    def _unavailable(self, call: str) -> BrokerUnavailable:
        code, message = self._mt5.last_error()
        return BrokerUnavailable(f"MT5 {call} failed: {message} ({code})", code=code)

    def _check_account(self, account_id: str) -> None:
        if account_id != self._account_id:
            raise TradeNotFound(f"account {account_id} is not the MT5 account of this broker ({self._account_id})")

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)


def _pending_type(mt5: Any, side: Side, kind: OrderKind) -> int:
    if side is Side.BUY:
        return int(mt5.ORDER_TYPE_BUY_LIMIT if kind is OrderKind.LIMIT else mt5.ORDER_TYPE_BUY_STOP)
    return int(mt5.ORDER_TYPE_SELL_LIMIT if kind is OrderKind.LIMIT else mt5.ORDER_TYPE_SELL_STOP)


def _dec(value: float) -> Decimal:
    """MT5 speaks float; str() gives the shortest repr, so 1.1 becomes Decimal('1.1'), not 1.100000000000000088…"""
    return Decimal(str(value))
