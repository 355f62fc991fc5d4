"""The paper broker's book in SQL: the `TradeStore` port on SQLite and PostgreSQL.

Each method is one transaction run by a `BatchRunner`. A move of an order is a conditional
`UPDATE ... WHERE status IN (order_sources(target))`: when it touches no row another worker moved the order
first, and the method answers False having written nothing (a later step that finds nothing to change
rolls the whole transaction back). Balances change by `balance = balance + :pnl`, never by a value read
earlier, so concurrent closes on one account all count."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from core.errors import TradeNotFound
from core.orders import Order, OrderKind, OrderRequest, OrderStatus, order_sources
from core.signals import Side
from core.trades import Account, CloseReason, EquityPoint, Fill, FillKind, Position
from storage.batch_runner import BatchRunner
from storage.money_sql import exact, maybe_exact, plus
from storage.models import TradeAccountRow, TradeEquityPointRow, TradeFillRow, TradeOrderRow, TradePositionRow
from storage.upsert import insert_for

ACCOUNTS: Table = TradeAccountRow.__table__  # type: ignore[assignment]
ORDERS: Table = TradeOrderRow.__table__  # type: ignore[assignment]
POSITIONS: Table = TradePositionRow.__table__  # type: ignore[assignment]
FILLS: Table = TradeFillRow.__table__  # type: ignore[assignment]
EQUITY: Table = TradeEquityPointRow.__table__  # type: ignore[assignment]

__all__ = ["SqlTradeStore"]


class _NothingWritten(Exception):
    """Raised inside a transaction to roll back a step that found the book changed under it."""


class SqlTradeStore:
    """`TradeStore` on the database behind `runner` (`storage.batch_runner.batch_runner_for(engine)`)."""

    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    # --- accounts ---

    async def open_account(self, account: Account) -> Account:
        return await self._runner.run(lambda conn: _open_account(conn, account))

    async def account(self, account_id: str) -> Account | None:
        return await self._runner.run(lambda conn: _account(conn, account_id))

    # --- orders ---

    async def add_order(self, order: Order) -> Order:
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"a new order must be {OrderStatus.NEW}, not {order.status}")
        return await self._runner.run(lambda conn: _add_order(conn, order))

    async def order(self, order_id: str) -> Order | None:
        return await self._runner.run(
            lambda conn: _one(conn, select(ORDERS).where(ORDERS.c.id == order_id), _order_from_row)
        )

    async def orders(self, *, status: OrderStatus, instrument: str | None = None) -> list[Order]:
        query = select(ORDERS).where(ORDERS.c.status == status.value)
        if instrument is not None:
            query = query.where(ORDERS.c.instrument == instrument)
        return await self._runner.run(lambda conn: _all(conn, query.order_by(ORDERS.c.seq), _order_from_row))

    async def cancel_order(self, order: Order) -> bool:
        return await self._runner.run(lambda conn: _move_order(conn, order))

    async def fill_order(self, order: Order, position: Position, fill: Fill) -> bool:
        return await self._guarded(lambda conn: _fill_order(conn, order, position, fill))

    async def close_position(self, order: Order, position: Position, fill: Fill) -> bool:
        return await self._guarded(lambda conn: _close_position(conn, order, position, fill))

    # --- positions, fills, equity ---

    async def position(self, position_id: str) -> Position | None:
        return await self._runner.run(
            lambda conn: _one(conn, select(POSITIONS).where(POSITIONS.c.id == position_id), _position_from_row)
        )

    async def open_positions(self, *, account_id: str | None = None, instrument: str | None = None) -> list[Position]:
        query = select(POSITIONS).where(POSITIONS.c.closed_at.is_(None))
        if account_id is not None:
            query = query.where(POSITIONS.c.account_id == account_id)
        if instrument is not None:
            query = query.where(POSITIONS.c.instrument == instrument)
        return await self._runner.run(lambda conn: _all(conn, query.order_by(POSITIONS.c.seq), _position_from_row))

    async def closed_positions(self, account_id: str) -> list[Position]:
        # In the order they closed: the closing fill's sequence number (close times may tie).
        query = (
            select(POSITIONS)
            .join(FILLS, (FILLS.c.order_id == POSITIONS.c.order_id) & (FILLS.c.kind == FillKind.CLOSE.value))
            .where(POSITIONS.c.account_id == account_id, POSITIONS.c.closed_at.is_not(None))
            .order_by(FILLS.c.seq)
        )
        return await self._runner.run(lambda conn: _all(conn, query, _position_from_row))

    async def fills(self, account_id: str) -> list[Fill]:
        query = select(FILLS).where(FILLS.c.account_id == account_id).order_by(FILLS.c.seq)
        return await self._runner.run(lambda conn: _all(conn, query, _fill_from_row))

    async def add_equity_point(self, point: EquityPoint) -> None:
        await self._runner.run(lambda conn: conn.execute(
            EQUITY.insert().values(account_id=point.account_id, time=point.time, balance=point.balance, equity=point.equity)
        ))

    async def equity_points(self, account_id: str) -> list[EquityPoint]:
        query = select(EQUITY).where(EQUITY.c.account_id == account_id).order_by(EQUITY.c.seq)
        return await self._runner.run(lambda conn: _all(conn, query, _equity_from_row))

    async def _guarded(self, work: Any) -> bool:
        try:
            return await self._runner.run(work)
        except _NothingWritten:
            return False


# --- steps, each inside one transaction ---


def _open_account(conn: Connection, account: Account) -> Account:
    opened = conn.execute(
        insert_for(conn, ACCOUNTS)
        .values(id=account.id, starting_balance=account.starting_balance, balance=account.balance, opened_at=account.opened_at)
        .on_conflict_do_nothing(index_elements=["id"])
    ).rowcount
    if opened == 1:  # the equity curve (and its drawdown) starts from the starting balance
        conn.execute(EQUITY.insert().values(
            account_id=account.id, time=account.opened_at, balance=account.balance, equity=account.balance
        ))
    stored = _account(conn, account.id)
    assert stored is not None
    return stored


def _account(conn: Connection, account_id: str) -> Account | None:
    return _one(conn, select(ACCOUNTS).where(ACCOUNTS.c.id == account_id), _account_from_row)


def _add_order(conn: Connection, order: Order) -> Order:
    r = order.request
    # No conflict target: a clash on the idempotency key answers the stored order; a clash on the id alone
    # is a caller's bug, reported below.
    conn.execute(
        insert_for(conn, ORDERS)
        .values(
            id=order.id, account_id=r.account_id, signal_id=r.signal_id, idempotency_key=r.idempotency_key,
            instrument=r.instrument, side=r.side.value, volume=r.volume, entry=r.entry, stop_loss=r.stop_loss,
            take_profit=r.take_profit, created_at=r.created_at, expires_at=r.expires_at, kind=order.kind.value,
            status=order.status.value, updated_at=order.updated_at, reason=order.reason,
        )
        .on_conflict_do_nothing()
    )
    stored = _one(
        conn,
        select(ORDERS).where(ORDERS.c.account_id == r.account_id, ORDERS.c.idempotency_key == r.idempotency_key),
        _order_from_row,
    )
    if stored is None:
        raise ValueError(f"order id {order.id} is already used")
    return stored


def _move_order(conn: Connection, order: Order) -> bool:
    """Compare-and-set: store `order` only if the stored one may still move to `order.status`."""
    sources = sorted(status.value for status in order_sources(order.status))
    moved = conn.execute(
        update(ORDERS)
        .where(ORDERS.c.id == order.id, ORDERS.c.status.in_(sources))
        .values(status=order.status.value, updated_at=order.updated_at, reason=order.reason)
    ).rowcount
    return moved == 1


def _fill_order(conn: Connection, order: Order, position: Position, fill: Fill) -> bool:
    if not _move_order(conn, order):
        return False
    conn.execute(POSITIONS.insert().values(_position_values(position)))
    conn.execute(FILLS.insert().values(_fill_values(fill)))
    return True


def _close_position(conn: Connection, order: Order, position: Position, fill: Fill) -> bool:
    if not _move_order(conn, order):
        return False
    values = _position_values(position)
    del values["id"]
    closed = conn.execute(
        update(POSITIONS).where(POSITIONS.c.id == position.id, POSITIONS.c.closed_at.is_(None)).values(values)
    ).rowcount
    if closed != 1:
        raise _NothingWritten  # no such open position: undo the order's move
    conn.execute(FILLS.insert().values(_fill_values(fill)))
    credited = conn.execute(
        update(ACCOUNTS).where(ACCOUNTS.c.id == fill.account_id).values(balance=plus(conn, ACCOUNTS.c.balance, fill.pnl))
    ).rowcount
    if credited != 1:
        raise TradeNotFound(f"no account {fill.account_id}")
    return True


# --- rows <-> domain objects ---


def _one(conn: Connection, query: Any, convert: Any) -> Any:
    row = conn.execute(query).first()
    return None if row is None else convert(row)


def _all(conn: Connection, query: Any, convert: Any) -> list[Any]:
    return [convert(row) for row in conn.execute(query)]


def _account_from_row(row: Any) -> Account:
    return Account(row.id, exact(row.starting_balance), exact(row.balance), row.opened_at)


def _order_from_row(row: Any) -> Order:
    request = OrderRequest(
        account_id=row.account_id,
        signal_id=row.signal_id,
        idempotency_key=row.idempotency_key,
        instrument=row.instrument,
        side=Side(row.side),
        volume=exact(row.volume),
        entry=exact(row.entry),
        stop_loss=exact(row.stop_loss),
        take_profit=exact(row.take_profit),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
    return Order(row.id, request, OrderKind(row.kind), OrderStatus(row.status), row.updated_at, row.reason)


def _position_values(p: Position) -> dict[str, Any]:
    return {
        "id": p.id, "account_id": p.account_id, "order_id": p.order_id, "instrument": p.instrument,
        "side": p.side.value, "volume": p.volume, "open_price": p.open_price, "stop_loss": p.stop_loss,
        "take_profit": p.take_profit, "opened_at": p.opened_at, "closed_at": p.closed_at,
        "close_price": p.close_price, "close_reason": None if p.close_reason is None else p.close_reason.value,
        "pnl": p.pnl,
    }


def _position_from_row(row: Any) -> Position:
    return Position(
        id=row.id,
        account_id=row.account_id,
        order_id=row.order_id,
        instrument=row.instrument,
        side=Side(row.side),
        volume=exact(row.volume),
        open_price=exact(row.open_price),
        stop_loss=exact(row.stop_loss),
        take_profit=exact(row.take_profit),
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        close_price=maybe_exact(row.close_price),
        close_reason=None if row.close_reason is None else CloseReason(row.close_reason),
        pnl=maybe_exact(row.pnl),
    )


def _fill_values(f: Fill) -> dict[str, Any]:
    return {
        "id": f.id, "order_id": f.order_id, "account_id": f.account_id, "instrument": f.instrument,
        "side": f.side.value, "kind": f.kind.value, "volume": f.volume, "price": f.price, "time": f.time, "pnl": f.pnl,
    }


def _fill_from_row(row: Any) -> Fill:
    return Fill(
        row.id, row.order_id, row.account_id, row.instrument, Side(row.side), FillKind(row.kind),
        exact(row.volume), exact(row.price), row.time, exact(row.pnl),
    )


def _equity_from_row(row: Any) -> EquityPoint:
    return EquityPoint(row.account_id, row.time, exact(row.balance), exact(row.equity))

