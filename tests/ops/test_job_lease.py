"""The job lease on SQLite and PostgreSQL: one holder at a time, renewed by it, taken over when it expires,
and what runs on the holder only (loops, scheduler jobs, alerts) following it from instance to instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.jobs.leader import LeaderLoops, leader_only, leading
from core.leadership import Leadership
from core.notify import OpsAlert, Severity
from core.shared_alerts import AlertsOnceAcrossInstances
from storage.batch_runner import batch_runner_for
from storage.job_lease import JobLease, SqlJobLeases
from tests.support import FakeClock

PERIOD = timedelta(seconds=15)


@pytest.fixture
async def leases(migrated_engine: Any) -> AsyncIterator[SqlJobLeases]:
    runner = batch_runner_for(migrated_engine)
    yield SqlJobLeases(runner)
    await runner.close()


async def test_one_holder_at_a_time_until_its_lease_expires(leases: SqlJobLeases, clock: FakeClock) -> None:
    now = clock.now()
    assert await leases.acquire("jobs", "a:1", now, now + PERIOD)
    assert not await leases.acquire("jobs", "b:2", now, now + PERIOD)

    clock.advance(10)  # the holder renews before expiry: its lease runs on from now
    now = clock.now()
    assert await leases.acquire("jobs", "a:1", now, now + PERIOD)
    clock.advance(14)
    assert not await leases.acquire("jobs", "b:2", clock.now(), clock.now() + PERIOD)

    clock.advance(1)  # exactly at expiry: free for the taking
    assert await leases.acquire("jobs", "b:2", clock.now(), clock.now() + PERIOD)
    assert not await leases.acquire("jobs", "a:1", clock.now(), clock.now() + PERIOD)
    current = await leases.current("jobs")
    assert current is not None and (current.holder, current.until) == ("b:2", clock.now() + PERIOD)


async def test_a_released_lease_is_taken_at_once_and_only_its_holder_can_release_it(leases: SqlJobLeases, clock: FakeClock) -> None:
    now = clock.now()
    assert await leases.acquire("jobs", "a:1", now, now + PERIOD)
    await leases.release("jobs", "b:2")  # not b's to give up
    assert not await leases.acquire("jobs", "b:2", now, now + PERIOD)
    await leases.release("jobs", "a:1")
    assert await leases.acquire("jobs", "b:2", now, now + PERIOD)


async def test_leases_of_different_names_are_independent(leases: SqlJobLeases, clock: FakeClock) -> None:
    now = clock.now()
    assert await leases.acquire("jobs", "a:1", now, now + PERIOD)
    assert await leases.acquire("alert:database_down:", "b:2", now, now + PERIOD)


async def test_of_many_instances_racing_for_an_expired_lease_exactly_one_gets_it(leases: SqlJobLeases, clock: FakeClock) -> None:
    await leases.acquire("jobs", "dead:0", clock.now() - PERIOD * 2, clock.now() - PERIOD)
    now = clock.now()
    won = await asyncio.gather(*(leases.acquire("jobs", f"host:{pid}", now, now + PERIOD) for pid in range(8)))
    assert sum(won) == 1
    current = await leases.current("jobs")
    assert current is not None and current.holder == f"host:{won.index(True)}"


async def test_another_instance_takes_over_within_a_lease_period_of_the_holders_death(leases: SqlJobLeases, clock: FakeClock) -> None:
    first = Leadership(leases, clock, "host-a:1", PERIOD)
    second = Leadership(leases, clock, "host-b:2", PERIOD)
    assert await first.refresh() and not await second.refresh()

    clock.advance(first.renew_every.total_seconds())  # renewals keep it
    assert await first.refresh() and not await second.refresh()

    # `first` dies: it renews no more. Until its last renewal's period is over, nobody else leads.
    clock.advance(PERIOD.total_seconds() - 1)
    assert not await second.refresh()
    clock.advance(1)
    assert await second.refresh()
    assert not await first.refresh(), "a holder that comes back after expiry has lost the lease"
    assert (first.leading, second.leading) == (False, True)


async def test_a_restart_after_a_crash_takes_the_dead_processs_lease_at_once(leases: SqlJobLeases, clock: FakeClock) -> None:
    crashed = Leadership(leases, clock, "host-a:1", PERIOD)
    assert await crashed.refresh()
    dead = {"host-a:1"}
    restarted = Leadership(leases, clock, "host-a:2", PERIOD, holder_is_dead=dead.__contains__)
    other = Leadership(leases, clock, "host-b:3", PERIOD)

    assert not await other.refresh()  # a live-looking holder: the others wait for its lease to run out
    assert await restarted.refresh()  # known dead: taken at once, not a period later
    assert not await crashed.refresh() and not await other.refresh()

    dead.clear()  # a holder not known to be dead keeps its lease
    assert not await Leadership(leases, clock, "host-a:4", PERIOD, holder_is_dead=dead.__contains__).refresh()


async def test_the_holder_that_stops_gives_the_lease_up_so_the_next_leads_at_once(leases: SqlJobLeases, clock: FakeClock) -> None:
    first = Leadership(leases, clock, "host-a:1", PERIOD)
    second = Leadership(leases, clock, "host-b:2", PERIOD)
    assert await first.refresh()
    await first.resign()
    assert not first.leading
    assert await second.refresh()


class FlakyLeases:
    """The SQL leases behind a switch: while `down`, the database does not answer."""

    def __init__(self, inner: SqlJobLeases) -> None:
        self.inner = inner
        self.down = False

    async def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        self._answer()
        return await self.inner.acquire(name, holder, now, until)

    async def release(self, name: str, holder: str) -> None:
        self._answer()
        await self.inner.release(name, holder)

    async def current(self, name: str) -> JobLease | None:
        self._answer()
        return await self.inner.current(name)

    def _answer(self) -> None:
        if self.down:
            raise ConnectionRefusedError("database down")


async def test_an_unreachable_database_changes_nobodys_role(clock: FakeClock, leases: SqlJobLeases) -> None:
    flaky = FlakyLeases(leases)
    holder, follower = Leadership(flaky, clock, "host-a:1", PERIOD), Leadership(flaky, clock, "host-b:2", PERIOD)
    assert await holder.refresh()
    flaky.down = True
    clock.advance(PERIOD.total_seconds())
    assert await holder.refresh(), "the holder keeps leading: its watchdog reports the outage"
    assert not await follower.refresh()
    flaky.down = False
    assert await follower.refresh(), "back, the database hands the expired lease to whoever asks first"
    assert not await holder.refresh()


async def _forever(started: list[str], name: str) -> None:
    started.append(name)
    await asyncio.Event().wait()


async def test_loops_run_on_the_holder_only_and_move_with_the_lease(leases: SqlJobLeases, clock: FakeClock) -> None:
    started: list[str] = []
    first = LeaderLoops(Leadership(leases, clock, "host-a:1", PERIOD), {"sender": lambda: _forever(started, "a")})
    second = LeaderLoops(Leadership(leases, clock, "host-b:2", PERIOD), {"sender": lambda: _forever(started, "b")})
    try:
        await first.refresh()
        await second.refresh()
        await asyncio.sleep(0)  # let started tasks take their first step
        assert (first.running, second.running, started) == (True, False, ["a"])

        clock.advance(PERIOD.total_seconds())  # `first` stalls past its lease
        await second.refresh()
        await first.refresh()
        await asyncio.sleep(0)
        assert (first.running, second.running, started) == (False, True, ["a", "b"])
    finally:
        await first.stop()
        await second.stop()


async def test_scheduler_jobs_are_skipped_where_the_lease_is_not_held(leases: SqlJobLeases, clock: FakeClock) -> None:
    runs: list[str] = []

    async def beat(name: str) -> None:
        runs.append(name)

    holder, other = Leadership(leases, clock, "host-a:1", PERIOD), Leadership(leases, clock, "host-b:2", PERIOD)
    await holder.refresh()
    await other.refresh()
    await leader_only(holder, lambda: beat("a"))()
    await leader_only(other, lambda: beat("b"))()
    assert runs == ["a"]


async def test_leading_starts_a_lone_instances_loops_at_once_and_releases_on_the_way_out(leases: SqlJobLeases, clock: FakeClock) -> None:
    started: list[str] = []
    async with leading(Leadership(leases, clock, "host-a:1", PERIOD), {"watchdog": lambda: _forever(started, "a")}) as loops:
        await asyncio.sleep(0)
        assert loops.running and started == ["a"]
    assert not loops.running
    assert await leases.current("desk-jobs") is None


class Recorded:
    def __init__(self) -> None:
        self.alerts: list[OpsAlert] = []

    async def alert(self, alert: OpsAlert) -> None:
        self.alerts.append(alert)


async def test_an_alert_raised_on_two_instances_within_the_window_reaches_ops_once(leases: SqlJobLeases, clock: FakeClock) -> None:
    window = timedelta(seconds=300)
    sent_by_a, sent_by_b = Recorded(), Recorded()
    a = AlertsOnceAcrossInstances(sent_by_a, leases, "host-a:1", window, clock, timeout_seconds=5)
    b = AlertsOnceAcrossInstances(sent_by_b, leases, "host-b:2", window, clock, timeout_seconds=5)
    breach = OpsAlert("broker_retries_exhausted", Severity.CRITICAL, "placing failed", "account paper-111", "marked failed")
    other = OpsAlert("broker_retries_exhausted", Severity.CRITICAL, "placing failed", "account paper-222", "marked failed")

    await a.alert(breach)
    await b.alert(breach)
    await b.alert(other)  # another subject is another alert
    await a.alert(breach)  # a's own repeat goes on to a's gate, which counts it
    assert (sent_by_a.alerts, sent_by_b.alerts) == ([breach, breach], [other])

    clock.advance(window.total_seconds())
    await b.alert(breach)
    assert sent_by_b.alerts == [other, breach]


async def test_an_alert_goes_out_when_the_database_cannot_say_whether_it_already_did(leases: SqlJobLeases, clock: FakeClock) -> None:
    sent, flaky = Recorded(), FlakyLeases(leases)
    flaky.down = True
    alerts = AlertsOnceAcrossInstances(sent, flaky, "host-a:1", timedelta(seconds=300), clock, timeout_seconds=5)
    down = OpsAlert("database_down", Severity.CRITICAL, "The database is unavailable.", "", "Probing.")
    await alerts.alert(down)
    assert sent.alerts == [down]
