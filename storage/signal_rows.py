"""Mapping between signal rows, driver parameters and domain objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect

from core.signals import NewSignal, Side, Signal, SignalStatus
from storage.models import SignalDedupKeyRow, SignalRow

SIGNALS: Table = SignalRow.__table__  # type: ignore[assignment]
DEDUP_KEYS: Table = SignalDedupKeyRow.__table__  # type: ignore[assignment]

# The columns ingest writes, in parameter order; the others keep their server defaults.
SIGNAL_COLUMNS = (
    "id producer_id instrument side price stop_loss take_profit time version external_id payload status "
    "idempotency_key request_digest signature_digest created_at updated_at"
).split()
CLAIM_COLUMNS = "producer_id instrument time version signal_id claimed_at expires_at".split()

Processor = Callable[[Any], Any]


class DriverInsert:
    """A multi-row `INSERT` written in the driver's own SQL and executed with one call.

    The hot path of ingest. SQLAlchemy's per-statement work (parameter sets, insertmanyvalues, result
    set-up) cost more than SQLite's own work for the row. So the SQL text is built once per dialect and
    row count, and each value is encoded by its column type's own bind processor, exactly as SQLAlchemy
    would store it. Returns the number of rows written (inserted or updated), which spares `RETURNING`."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect, suffix: str = "") -> None:
        quote = dialect.identifier_preparer
        names = ", ".join(quote.format_column(table.c[c]) for c in columns)
        self._head = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES "
        self._suffix = suffix
        self._width = len(columns)
        self._placeholder = _placeholder(dialect.paramstyle)
        self._sql: dict[int, str] = {}

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> int:
        params = [value for row in rows for value in row]
        return conn.exec_driver_sql(self._sql_for(len(rows)), tuple(params)).rowcount

    def _sql_for(self, count: int) -> str:
        sql = self._sql.get(count)
        if sql is None:
            marks = [self._placeholder(i + 1) for i in range(count * self._width)]
            rows = ", ".join(f"({', '.join(marks[r * self._width:(r + 1) * self._width])})" for r in range(count))
            sql = self._sql[count] = f"{self._head}{rows} {self._suffix}".rstrip()
        return sql


def _placeholder(paramstyle: str) -> Callable[[int], str]:
    styles: dict[str, Callable[[int], str]] = {
        "qmark": lambda _: "?",
        "numeric_dollar": lambda n: f"${n}",
        "numeric": lambda n: f":{n}",
        "format": lambda _: "%s",
        "pyformat": lambda _: "%s",
    }
    if paramstyle not in styles:
        raise ValueError(f"unsupported DBAPI paramstyle {paramstyle!r}")
    return styles[paramstyle]


class SignalEncoder:
    """Driver parameters for a new signal's row and its dedup claim, encoded by the columns' types."""

    def __init__(self, dialect: Dialect) -> None:
        self._money = _processor(SIGNALS, "price", dialect)
        self._moment = _faster(_processor(SIGNALS, "time", dialect), _sqlite_moment if dialect.name == "sqlite" else None)
        self._json = _processor(SIGNALS, "payload", dialect)
        self._null_json = self._json(None)
        # Each value is encoded once, by the processor of the column type every column it goes to shares.
        for column in ("stop_loss", "take_profit"):
            _require_same_type(SIGNALS, column, SIGNALS, "price")
        for column in ("created_at", "updated_at"):
            _require_same_type(SIGNALS, column, SIGNALS, "time")
        for column in ("time", "claimed_at", "expires_at"):
            _require_same_type(DEDUP_KEYS, column, SIGNALS, "time")

    def rows(self, new: NewSignal) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """(signal row in SIGNAL_COLUMNS order, claim row in CLAIM_COLUMNS order)"""
        d = new.draft
        money, moment = self._money, self._moment
        time, created = moment(d.time), moment(new.created_at)
        signal = (
            new.id, new.producer_id, d.instrument, d.side.value, money(d.price), money(d.stop_loss),
            money(d.take_profit), time, d.version, d.external_id,
            self._null_json if d.payload is None else self._json(d.payload), SignalStatus.NEW.value,
            new.idempotency_key, new.request_digest, new.signature_digest, created, created,
        )
        claim = (new.producer_id, d.instrument, time, d.version, new.id, created, moment(new.dedup_expires_at))
        return signal, claim


def _processor(table: Table, column: str, dialect: Dialect) -> Processor:
    type_ = table.c[column].type
    return type_.dialect_impl(dialect).bind_processor(dialect) or _same


def _same(value: Any) -> Any:
    return value


def _require_same_type(table: Table, column: str, like_table: Table, like: str) -> None:
    a, b = table.c[column].type, like_table.c[like].type
    if type(a) is not type(b):
        raise TypeError(f"{table.name}.{column} is {a!r} but is encoded like {like_table.name}.{like} ({b!r})")


def _sqlite_moment(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    # SQLAlchemy's SQLite DATETIME storage format, "YYYY-MM-DD HH:MM:SS.ffffff", written by C code.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_SAMPLE_MOMENTS = (
    datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    datetime(1999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2031, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
)


def _faster(reference: Processor, fast: Processor | None) -> Processor:
    """`fast` where it writes exactly what the column type's own processor writes, else the processor."""
    if fast is not None and all(fast(m) == reference(m) for m in _SAMPLE_MOMENTS):
        return fast
    return reference


def signal_from_new(new: NewSignal) -> Signal:
    d = new.draft
    return Signal(
        id=new.id,
        producer_id=new.producer_id,
        instrument=d.instrument,
        side=d.side,
        price=d.price.normalize(),
        stop_loss=d.stop_loss.normalize(),
        take_profit=d.take_profit.normalize(),
        time=d.time,
        version=d.version,
        status=SignalStatus.NEW,
        created_at=new.created_at,
        updated_at=new.created_at,
        external_id=d.external_id,
        payload=d.payload,
    )


def signal_from_row(row: Any) -> Signal:
    """From a SignalRow or a Core row of the signals table."""
    return Signal(
        id=row.id,
        producer_id=row.producer_id,
        instrument=row.instrument,
        side=Side(row.side),
        price=row.price.normalize(),
        stop_loss=row.stop_loss.normalize(),
        take_profit=row.take_profit.normalize(),
        time=row.time,
        version=row.version,
        status=SignalStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        external_id=row.external_id,
        payload=row.payload,
    )
