"""Exact money arithmetic inside SQL statements, the same on SQLite and PostgreSQL.

PostgreSQL has NUMERIC; SQLite keeps money as text (`storage.types.Money`), where `+` would add binary
floats and `<` would compare text ("9" > "10"). There the operation is a small Python function computing
in Decimal, registered on the connection and still run inside the one statement, so it stays atomic."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.engine import Connection


def plus(conn: Connection, column: Any, amount: Decimal) -> Any:
    """`column + amount` (an increment, not a value read earlier)."""
    if conn.dialect.name != "sqlite":
        return column + amount
    return _sqlite_call(conn, "sd_decimal_add", _decimal_add, column, amount)


def less_than(conn: Connection, column: Any, amount: Decimal) -> Any:
    """`column < amount`."""
    if conn.dialect.name != "sqlite":
        return column < amount
    return _sqlite_call(conn, "sd_decimal_less", _decimal_less, column, amount) == 1


def exact(value: Decimal) -> Decimal:
    """The stored value without the column's padding zeros (PostgreSQL answers 2400.5000000000)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def maybe_exact(value: Decimal | None) -> Decimal | None:
    return None if value is None else exact(value)


def _sqlite_call(conn: Connection, name: str, function: Callable[[str, str], Any], column: Any, amount: Decimal) -> Any:
    conn.connection.dbapi_connection.create_function(name, 2, function, deterministic=True)  # type: ignore[union-attr]
    return getattr(func, name)(column, bindparam(None, amount, type_=column.type))


def _decimal_add(left: str, right: str) -> str:
    return format(Decimal(left) + Decimal(right), "f")


def _decimal_less(left: str, right: str) -> int:
    return int(Decimal(left) < Decimal(right))
