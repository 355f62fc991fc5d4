"""Which instance runs the jobs that must run on one instance at a time (the heartbeat and drawdown guard,
approval expiry, the watchdog, the outbox sender): the holder of a lease in the shared database.

The holder renews the lease every third of its period; when it dies, another instance takes the lease
within a period. A renewal that fails because the database does not answer changes nothing: the holder
goes on (its watchdog is the one that tells ops the database is down), and no other instance can take the
lease without the database either."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from collections.abc import Callable
from typing import Protocol

from core.clock import Clock

log = logging.getLogger(__name__)
DESK_JOBS = "desk-jobs"  # the lease the desk's one-at-a-time jobs run under


class HeldLease(Protocol):
    holder: str
    until: datetime


class JobLeases(Protocol):
    async def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew lease `name` for `holder`; False while another holder's lease runs past `now`."""
        ...

    async def current(self, name: str) -> HeldLease | None: ...

    async def release(self, name: str, holder: str) -> None: ...


class Leadership:
    def __init__(
        self,
        leases: JobLeases,
        clock: Clock,
        holder: str,
        period: timedelta,
        name: str = DESK_JOBS,
        holder_is_dead: Callable[[str], bool] = lambda _holder: False,
    ) -> None:
        self._leases = leases
        # Knows a holder is gone for good (a crashed process on this host): its lease need not run out.
        self._holder_is_dead = holder_is_dead
        self._clock = clock
        self._holder = holder
        self._period = period
        self._name = name
        self._leading = False

    @property
    def leading(self) -> bool:
        return self._leading

    @property
    def renew_every(self) -> timedelta:
        return self._period / 3

    async def refresh(self) -> bool:
        """Take or renew the lease; answers whether this instance leads now."""
        now = self._clock.now()
        try:
            held = await self._leases.acquire(self._name, self._holder, now, now + self._period)
            if not held:
                held = await self._take_from_the_dead(now)
        except Exception:  # noqa: BLE001 - the database is unreachable: see the module's docstring
            log.warning("event=lease_renewal_failed lease=%s holder=%s leading=%s", self._name, self._holder, self._leading, exc_info=True)
            return self._leading
        if held != self._leading:
            log.info("event=%s lease=%s holder=%s", "lease_taken" if held else "lease_lost", self._name, self._holder)
        self._leading = held
        return held

    async def _take_from_the_dead(self, now: datetime) -> bool:
        lease = await self._leases.current(self._name)
        if lease is None or not self._holder_is_dead(lease.holder):
            return False
        # Acquire "as of" the dead holder's expiry: the lease passes to us only if that row is unchanged
        # (no live instance renewed or took it meanwhile), in the same one conditional statement.
        log.info("event=lease_holder_dead lease=%s holder=%s", self._name, lease.holder)
        return await self._leases.acquire(self._name, self._holder, lease.until, now + self._period)

    async def resign(self) -> None:
        """On shutdown: give the lease up so another instance takes over at once, not a period later."""
        if not self._leading:
            return
        self._leading = False
        try:
            await self._leases.release(self._name, self._holder)
        except Exception:  # noqa: BLE001 - then the lease simply expires
            log.warning("event=lease_release_failed lease=%s holder=%s", self._name, self._holder, exc_info=True)
            return
        log.info("event=lease_released lease=%s holder=%s", self._name, self._holder)
