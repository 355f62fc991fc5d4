"""Outages of what the desk depends on, while it works: the database during ingest, Telegram during
delivery, the broker during execution. Each outage is ended by progress (enough requests refused, enough
cards queued, the broker's attempts), not by a timer, so it lasts well under a second of real time where
the issue speaks of 30 and 60 s: what matters is that requests, cards and orders meet it, and the
behaviour does not depend on its length (Telegram's backoffs run on the test clock, moved past them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.config import SchedulerSettings
from bot.emulator import BotApiEmulator
from core.errors import BrokerUnavailable
from core.orders import Order, OrderKind, OrderRequest
from storage.models import DecisionRow, OutboxRow, TradeOrderRow
from tests.conftest import Api, make_settings
from tests.reliability.conftest import Figures
from tests.support import FakeClock, rfc3339, signal_body
from tests.tcp_proxy import TcpProxy
from tests.telegram.conftest import ADMIN, TRADERS, card_for, emulator, post_signal, telegram_settings  # noqa: F401 - fixture
from tests.telegram.ops_support import ops_alerts

PRODUCERS = 4


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_down_during_ingest_refuses_cleanly_and_recovers_without_restart(
    api_factory: Any, database_url: str, figures: Figures
) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    api = await api_factory(make_settings(url.set(port=proxy.port).render_as_string(hide_password=False), signals={"rate_per_second": 0}))
    answers: dict[str, int] = {}  # external id -> status of its first answer
    refused, stop = asyncio.Event(), asyncio.Event()

    async def producer(first: int) -> None:
        n = first
        while not stop.is_set():
            status, headers, body = await _post(api, n)
            assert status in (201, 503), body
            if status == 503:
                assert headers["Retry-After"] and body["type"] == "/problems/storage-unavailable"
                if sum(s == 503 for s in answers.values()) >= 10:
                    refused.set()
            answers.setdefault(f"s-{n}", status)
            n += PRODUCERS

    producers = [asyncio.create_task(producer(i)) for i in range(PRODUCERS)]
    await _until_answered(answers, 20)
    await proxy.cut()
    await refused.wait()
    await proxy.start()  # the database is back on the same address; the desk was not restarted
    before = len(answers)
    await _until_answered(answers, before + 20, status=201)
    stop.set()
    await asyncio.gather(*producers)
    figures.outages_survived += 1

    stored = await _external_ids(api)
    accepted = {key for key, status in answers.items() if status == 201}
    figures.accepted_checked += len(accepted)
    figures.lost += len(accepted - stored)
    assert accepted <= stored, "a signal answered 201 is missing"
    # A 503 normally means nothing was written. Only when the connection dropped during the COMMIT itself
    # can the outcome not be known; then the 503 asks for a resend, and the resend finds the signal.
    in_doubt = stored - accepted
    assert len(in_doubt) <= PRODUCERS, "more 503s were written than requests could be mid-commit at the cut"
    # The producers resend what was refused, with the same idempotency key: each stored exactly once.
    for key in sorted(set(answers) - accepted):
        status, _, body = await _post(api, int(key.removeprefix("s-")))
        assert status == (200 if key in in_doubt else 201), body
    assert await _external_ids(api) == set(answers)


async def _post(api: Api, n: int) -> tuple[int, dict[str, str], Any]:
    body = signal_body(external_id=f"s-{n}", version=n + 1)
    return await api.post_signal(body, headers={"X-Idempotency-Key": f"k-{n}"})


async def _until_answered(answers: dict[str, int], count: int, status: int | None = None) -> None:
    async with asyncio.timeout(30):
        while sum(status is None or s == status for s in answers.values()) < count:
            await asyncio.sleep(0.01)  # waiting for the producers' progress, not ordering anything


async def _external_ids(api: Api) -> set[str]:
    ids: list[str] = []
    cursor = ""
    while True:
        status, _, page = await api.request("GET", f"/api/v1/signals?limit=200{cursor}")
        assert status == 200, page
        ids += [s["external_id"] for s in page["signals"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(ids) == len(set(ids)), "a signal was stored twice"
    return set(ids)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_telegram_down_then_back_on_the_same_port_delivers_every_card_in_order(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, figures: Figures  # noqa: F811 - fixture
) -> None:
    desk = await api_factory(telegram_settings(database_url, emulator))
    assert desk.desk.telegram is not None
    first = await post_signal(desk, external_id="before", version=1)
    for trader in TRADERS:
        await card_for(emulator, trader, first)

    port = int(emulator.base_url.rsplit(":", 1)[1])
    await emulator.stop()  # Telegram is unreachable: connections refused
    signals = [await post_signal(desk, external_id=f"down-{i}", version=i + 2) for i in range(6)]
    await _until_delivery_failed(desk)
    await emulator.start(port=port)
    desk.clock.advance(600)  # past every backoff: the retries are due now
    desk.desk.telegram.sender.wake()
    figures.outages_survived += 1

    shorts = [s["id"].replace("-", "")[-8:] for s in [first, *signals]]
    for trader in TRADERS:
        messages = await emulator.wait_for_messages(trader, lambda ms: sum("R:R" in (m.text or "") for m in ms) >= len(shorts), timeout=15)
        cards = [next(sh for sh in shorts if f"#{sh}" in (m.text or "")) for m in messages if "R:R" in (m.text or "")]
        figures.deliveries_checked += len(cards)
        figures.duplicated += len(cards) - len(set(cards))
        assert cards == shorts, f"trader {trader} got {cards}"


async def _until_delivery_failed(desk: Api) -> None:
    """Until the sender has met the outage: a queued card's delivery failed and waits for its retry."""
    outbox = OutboxRow.__table__
    async with asyncio.timeout(15):
        while True:
            async with desk.desk.engine.connect() as conn:
                if (await conn.execute(select(func.count()).where(outbox.c.last_error.is_not(None)))).scalar_one():
                    return
            await asyncio.sleep(0.01)  # waiting for the sender's progress, not ordering anything


BROKER_SCENARIOS = {
    # name: (what each call to place() does in turn, orders expected, ops alert expected)
    "down, then back before the last attempt": (["refuse", "refuse", "place"], 1, False),
    "placed, but the reply was lost": (["place then lose the reply", "place"], 1, False),
    "down for every attempt": (["refuse", "refuse", "refuse"], 0, True),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("scenario", BROKER_SCENARIOS)
async def test_a_failing_broker_is_retried_then_alerted_and_never_leaves_an_order_unknown(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock,  # noqa: F811 - fixture
    monkeypatch: pytest.MonkeyPatch, figures: Figures, scenario: str,
) -> None:
    script, expected_orders, alerted = BROKER_SCENARIOS[scenario]
    settings = telegram_settings(database_url, emulator).model_copy(
        update={"scheduler": SchedulerSettings(execution_interval_seconds=0.05, execution_max_attempts=3)}
    )
    desk = await api_factory(settings)
    calls = _ScriptedBroker(desk.desk.trading.broker.place, script)
    monkeypatch.setattr(desk.desk.trading.broker, "place", calls.place)

    quote = {"instrument": "XAUUSD", "bid": 2400.2, "ask": 2400.5, "time": rfc3339(clock.now())}
    assert (await desk.request("POST", "/api/v1/quotes", {"quotes": [quote]}))[0] == 202
    signal = await post_signal(desk, time=rfc3339(clock.now()))
    card = await card_for(emulator, TRADERS[0], signal)
    await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
    for attempt in range(1, len(script)):
        await _until_attempts(desk, signal["id"], attempt)
        clock.advance(60)  # past this attempt's backoff: the next one is due
    outcome = "Order placed for" if expected_orders else "Placing the order for"
    notes = await emulator.wait_for_messages(TRADERS[0], lambda ms: any(outcome in (m.text or "") for m in ms), timeout=15)
    figures.outages_survived += 1

    orders, execution = await _execution_of(desk, signal["id"])
    figures.orders_checked += orders
    figures.duplicated += max(0, orders - 1)
    assert (orders, execution) == (expected_orders, "placed" if expected_orders else "failed")
    assert sum(outcome in (m.text or "") for m in notes) == 1
    assert calls.calls == len(script)
    if alerted:
        [alert] = await ops_alerts(emulator, "failed after 3 attempts")
        assert "CRITICAL" in alert and "no order is open at the broker" in alert
    else:  # placed: nothing to alert about, nor will there be
        assert not [m for m in emulator.messages(ADMIN) if "failed after" in (m.text or "")]


class _ScriptedBroker:
    """place() as the scenario says, call by call."""

    def __init__(self, real: Callable[[OrderRequest, OrderKind], Awaitable[Order]], script: list[str]) -> None:
        self._real, self._script = real, script
        self.calls = 0

    async def place(self, request: OrderRequest, kind: OrderKind) -> Order:
        step = self._script[min(self.calls, len(self._script) - 1)]
        self.calls += 1
        if step == "refuse":
            raise BrokerUnavailable("connection to the trade server lost")
        order = await self._real(request, kind)
        if step == "place then lose the reply":
            raise BrokerUnavailable("no reply from the trade server: state unknown")
        return order


async def _until_attempts(desk: Api, signal_id: str, attempts: int) -> None:
    """Until the approval's failed attempts are recorded (and its retry scheduled on the desk's clock)."""
    decisions = DecisionRow.__table__
    async with asyncio.timeout(15):
        while True:
            async with desk.desk.engine.connect() as conn:
                query = select(decisions.c.attempts).where(decisions.c.signal_id == signal_id)
                if ((await conn.execute(query)).scalar_one_or_none() or 0) >= attempts:
                    return
            await asyncio.sleep(0.01)  # waiting for the execution job's progress, not ordering anything


async def _execution_of(desk: Api, signal_id: str) -> tuple[int, str | None]:
    orders, decisions = TradeOrderRow.__table__, DecisionRow.__table__
    async with desk.desk.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).where(orders.c.signal_id == signal_id))).scalar_one()
        execution = (await conn.execute(select(decisions.c.execution).where(decisions.c.signal_id == signal_id))).scalar_one()
    return count, execution
