"""Leases in `job_leases`: which instance runs something that must run on one instance at a time.

Taking a lease is one conditional upsert: insert it, or take it over when it has expired or is already
ours. The database settles a race between instances (the row's primary key and lock), so exactly one of
them gets a row back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection

from storage.batch_runner import BatchRunner
from storage.models import JobLeaseRow
from storage.upsert import insert_for

_LEASES = JobLeaseRow.__table__
NAME_LENGTH = 64  # the columns' width


@dataclass(frozen=True)
class JobLease:
    name: str
    holder: str
    until: datetime


class SqlJobLeases:
    """The core `JobLeases` port on SQLite and PostgreSQL."""

    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease `name` for `holder` until `until`; False while another holder's lease
        runs past `now`."""
        return await self._runner.run(lambda conn: _acquire(conn, name, _fit(holder), now, until))

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up (if `holder` still has it), so another instance need not wait for it to expire."""
        await self._runner.run(
            lambda conn: conn.execute(delete(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == _fit(holder)))
        )

    async def current(self, name: str) -> JobLease | None:
        row = await self._runner.run(lambda conn: conn.execute(select(_LEASES).where(_LEASES.c.name == name)).first())
        return None if row is None else JobLease(row.name, row.holder, row.until)


def _fit(holder: str) -> str:
    # The end of "host:pid" tells instances apart; a host name near its 64-character limit loses its start.
    return holder[-NAME_LENGTH:]


def _acquire(conn: Connection, name: str, holder: str, now: datetime, until: datetime) -> bool:
    stmt = insert_for(conn, _LEASES).values(name=name, holder=holder, until=until)
    taken = conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": stmt.excluded.holder, "until": stmt.excluded.until},
            where=or_(_LEASES.c.holder == holder, _LEASES.c.until <= now),
        ).returning(_LEASES.c.holder)
    ).first()
    return taken is not None
