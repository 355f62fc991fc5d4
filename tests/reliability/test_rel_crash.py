"""SIGKILL of a real `signaldesk serve` at random moments of its work, restart, and check what users would
notice: no signal that was answered 201 is lost, no card, alert or order is repeated, and
`signaldesk audit verify` passes.

Each round starts the process, has producers post signals (and quotes that ops get alerted about)
concurrently while cards go out to the traders and a trader approves the cards that arrived, and kills it
once a random number of the round's requests (a seeded RNG) has been answered: requests are then in
flight, cards mid-delivery and approvals mid-execution. Execution's own SIGKILL test, with 100 approvals,
is tests/execution/test_exec_processes.py (counted in the figures, not repeated here)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from tests.processes import run_cli, served_url
from tests.reliability.conftest import Figures
from tests.reliability.serve_support import get_signed, kill_service, now, post_signed, query, serve_env, start_service
from tests.support import rfc3339, signal_body
from tests.telegram.conftest import card_for

TRADERS = [7101, 7102]
APPROVER = TRADERS[0]
OPS = 7900
ROUNDS = 3
REQUESTS_PER_ROUND = 24  # at most: the kill comes first
PRODUCERS = 3  # concurrent clients


@dataclass
class Ledger:
    """What the producers were told, across every round."""

    accepted: list[str] = field(default_factory=list)  # signal ids answered 201
    alerted: list[str] = field(default_factory=list)  # instruments of refused quotes answered 202
    answered: int = 0  # requests answered this round


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(EmulatorState(limits=RateLimits(global_per_second=200, per_chat_per_second=20))) as telegram:
        yield telegram


async def test_sigkill_during_ingest_delivery_and_approvals_loses_and_repeats_nothing(
    emulator: BotApiEmulator, tmp_path: Path, figures: Figures
) -> None:
    database = tmp_path / "desk.db"
    env = serve_env(database, emulator, TRADERS, OPS)
    rng = random.Random(20261125)
    ledger = Ledger()
    async with aiohttp.ClientSession() as session:
        for round_ in range(ROUNDS):
            process = await start_service(env)
            try:
                url = await served_url(process)
                status, _ = await post_signed(session, url, "/api/v1/quotes", {"quotes": [_quote("XAUUSD", 2400.2, 2400.5)]})
                assert status == 202  # a price, so approvals become orders
                if round_:  # the cards earlier rounds left are delivered now; the trader approves them
                    await _approve_arrived_cards(emulator)
                await _work_until(session, url, round_, rng.randint(1, REQUESTS_PER_ROUND - PRODUCERS), ledger)
            finally:
                await kill_service(process)
            figures.crashes_injected += 1

        process = await start_service(env)  # a last run finishes whatever the kills left
        try:
            url = await served_url(process)
            await _settled(session, url, emulator, database)
            missing = [s for s in ledger.accepted if await get_signed(session, url, f"/api/v1/signals/{s}") != 200]
        finally:
            await kill_service(process, signal.SIGTERM)

    figures.accepted_checked += len(ledger.accepted)
    figures.lost += len(missing)
    assert not missing, f"{len(missing)} of {len(ledger.accepted)} accepted signals are gone after the restarts"
    _check_each_once(emulator, database, ledger, figures)
    verified = run_cli("audit", "verify", env=env)
    assert verified.returncode == 0 and "audit chain OK" in verified.stdout, verified.stdout + verified.stderr


async def _work_until(session: aiohttp.ClientSession, url: str, round_: int, kill_after: int, ledger: Ledger) -> None:
    """Producers post concurrently; returns (for the kill) once `kill_after` requests of this round have been
    answered, while the others are in flight."""
    ledger.answered = 0
    enough = asyncio.Event()
    numbers = iter(range(REQUESTS_PER_ROUND))

    async def producer() -> None:
        for n in numbers:
            with contextlib.suppress(aiohttp.ClientError):  # the kill cuts requests in flight
                await _one_request(session, url, round_, n, ledger)
            ledger.answered += 1
            if ledger.answered >= kill_after:
                enough.set()

    producers = [asyncio.create_task(producer()) for _ in range(PRODUCERS)]
    await _until(enough, producers)
    # Back to the caller, which kills the process; the producers' requests still in flight die with it.
    asyncio.get_running_loop().call_soon(lambda: [task.cancel() for task in producers])


async def _until(event: asyncio.Event, producers: list[asyncio.Task[None]]) -> None:
    """Wait for `event`, failing at once if a producer failed (a refused request) instead of hanging."""
    waiter = asyncio.create_task(event.wait())
    done, _ = await asyncio.wait([waiter, *producers], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    for task in done - {waiter}:
        task.result()
    waiter.cancel()
    assert event.is_set(), "the round's requests were not answered in time"


async def _one_request(session: aiohttp.ClientSession, url: str, round_: int, n: int, ledger: Ledger) -> None:
    if n % 6 == 5:  # now and then a crossed quote (bid above ask): refused, and ops are alerted
        instrument = f"K{round_}Q{n}Z"
        status, body = await post_signed(session, url, "/api/v1/quotes", {"quotes": [_quote(instrument, 2.0, 1.0)]})
        assert status == 202 and body["refused"] == 1, body
        ledger.alerted.append(instrument)
        return
    fields = {"external_id": f"r{round_}-{n}", "version": round_ * 100 + n + 1, "time": rfc3339(now())}
    status, body = await post_signed(session, url, "/api/v1/signals", signal_body(**fields))
    assert status == 201, body
    ledger.accepted.append(body["id"])


async def _approve_arrived_cards(emulator: BotApiEmulator) -> None:
    def undecided() -> list[int]:
        return [m.message_id for m in emulator.messages(APPROVER) if any(b.text == "Approve" for row in m.buttons for b in row)]

    await emulator.wait_until(lambda: bool(undecided()), timeout=15)
    for message_id in undecided():
        emulator.press(APPROVER, message_id, button="Approve")


def _quote(instrument: str, bid: float, ask: float) -> dict[str, Any]:
    return {"instrument": instrument, "bid": bid, "ask": ask, "time": rfc3339(now())}


async def _settled(session: aiohttp.ClientSession, url: str, emulator: BotApiEmulator, database: Path) -> None:
    """Until everything the kills interrupted is resolved. Each chat is strictly ordered, so once a new card
    and alert arrive after the restart, everything queued before them has gone out (and any duplicate of
    it would be there already); approvals are done once none waits for execution."""
    status, sentinel = await post_signed(session, url, "/api/v1/signals", signal_body(external_id="sentinel", version=9999, time=rfc3339(now())))
    assert status == 201, sentinel
    status, _ = await post_signed(session, url, "/api/v1/quotes", {"quotes": [_quote("SENTINEL", 2.0, 1.0)]})
    assert status == 202
    for trader in TRADERS:
        await card_for(emulator, trader, sentinel)
    await emulator.wait_for_messages(OPS, lambda ms: any("SENTINEL" in (m.text or "") for m in ms), timeout=15)
    async with asyncio.timeout(30):
        while query(database, "SELECT count(*) FROM decisions WHERE execution IN ('pending', 'claimed')")[0][0]:
            await asyncio.sleep(0.05)  # waiting for the other process to finish, not ordering anything


def _check_each_once(emulator: BotApiEmulator, database: Path, ledger: Ledger, figures: Figures) -> None:
    stored = [row[0] for row in query(database, "SELECT id FROM signals")]
    cards = {trader: Counter(_shorts_in(emulator, trader, stored)) for trader in TRADERS}
    alerts = Counter(i for m in emulator.messages(OPS) for i in ledger.alerted if i in (m.text or ""))
    orders = Counter(key for (key,) in query(database, "SELECT idempotency_key FROM trade_orders"))
    placed = query(database, "SELECT count(*) FROM decisions WHERE execution = 'placed'")[0][0]
    figures.deliveries_checked += len(stored) * len(TRADERS) + len(ledger.alerted)
    figures.orders_checked += len(orders)
    repeated = [n - 1 for counts in (*cards.values(), alerts, orders) for n in counts.values() if n > 1]
    figures.duplicated += sum(repeated)
    never_delivered = [(t, s) for t in TRADERS for s in stored if cards[t][s.replace('-', '')[-8:]] == 0]
    alerts_lost = [i for i in ledger.alerted if alerts[i] == 0]
    figures.lost += len(never_delivered) + len(alerts_lost)
    assert not repeated, f"repeated: cards {cards}, alerts {alerts}, orders {orders}"
    assert not never_delivered and not alerts_lost, f"never delivered: cards {never_delivered}, alerts {alerts_lost}"
    assert placed == len(orders), "an approval marked placed has no order, or an order no approval"
    assert placed > 0, f"no approval was executed: {query(database, 'SELECT decision, execution, execution_note FROM decisions')}"


def _shorts_in(emulator: BotApiEmulator, trader: int, signal_ids: list[str]) -> list[str]:
    """The signals (by short id) of each card in the trader's chat; a card has the R:R line, which the
    trader's order notices about the same signal have not."""
    shorts = {signal_id.replace("-", "")[-8:] for signal_id in signal_ids}
    cards = [m.text for m in emulator.messages(trader) if m.text and "R:R" in m.text]
    return [short for text in cards for short in shorts if f"#{short}" in text]
