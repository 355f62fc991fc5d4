"""Two real `signaldesk serve` processes on one PostgreSQL, one bot token in webhook mode behind a round-robin
load balancer, act as one desk: 100 signals posted to both in turn reach each of 3 traders once, every
approval (pressed through the Bot API emulator, its update landing on either instance) becomes exactly one
order, an alert raised on both instances reaches ops once, and the heartbeat runs on the lease holder only.
When the holder is killed, the other instance takes its jobs over within a lease period."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from bot.emulator.model import SentMessage
from core.leadership import DESK_JOBS
from storage import migrate
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.database import create_engine
from storage.job_lease import SqlJobLeases
from storage.models import DecisionRow, OutboxRow, TradeOrderRow
from tests.load_balancer import round_robin
from tests.processes import served_url, start_serve
from tests.support import PRODUCER_ID, SECRET, SignedHeaders, encode, rfc3339, signal_body

TRADERS = (1001, 1002, 1003)
ADMIN = 900  # also the ops chat
SIGNALS = 100
WEBHOOK_SECRET = "two-instances-webhook-secret"
AUTH_BURST = 3  # failed signatures per instance: each instance alone sees a burst
LEASE_SECONDS = 3  # how long a dead holder's jobs wait for another instance
CARD_ID = re.compile(r"· #(\w{8})\b")


def _serve_env(database_url: str, telegram: BotApiEmulator, webhook_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "SIGNALDESK_DATABASE__URL": database_url,
        "SIGNALDESK_DATABASE__AUTO_MIGRATE": "false",  # the test migrates once, as docs/deploy.md advises
        "SIGNALDESK_HTTP__PORT": "0",
        "SIGNALDESK_PRODUCERS": json.dumps([{"id": PRODUCER_ID, "secrets": [SECRET]}]),
        "SIGNALDESK_SIGNALS__RATE_PER_SECOND": "0",
        "SIGNALDESK_TELEGRAM__TOKEN": telegram.token,
        "SIGNALDESK_TELEGRAM__API_BASE": telegram.base_url,
        "SIGNALDESK_TELEGRAM__MODE": "webhook",
        "SIGNALDESK_TELEGRAM__WEBHOOK_URL": webhook_url,
        "SIGNALDESK_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SIGNALDESK_TELEGRAM__TRADERS": json.dumps(list(TRADERS)),
        "SIGNALDESK_TELEGRAM__ADMINS": json.dumps([ADMIN]),
        "SIGNALDESK_TELEGRAM__OPS_CHAT_ID": str(ADMIN),
        # The emulator is unlimited here; the sender's own limits would only make the test slow.
        "SIGNALDESK_TELEGRAM__RATE_GLOBAL_PER_SECOND": "1000",
        "SIGNALDESK_TELEGRAM__RATE_CHAT_PER_SECOND": "1000",
        "SIGNALDESK_SCHEDULER__HEARTBEAT_SECONDS": "1",
        "SIGNALDESK_SCHEDULER__EXECUTION_INTERVAL_SECONDS": "0.2",
        "SIGNALDESK_SCHEDULER__JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SIGNALDESK_ALERTS__AUTH_FAILURES": str(AUTH_BURST),
    }


async def _signed(http: aiohttp.ClientSession, url: str, path: str, body: Any, signer: SignedHeaders) -> tuple[int, Any]:
    data = encode(body)
    headers = signer.build("POST", path, data, rfc3339(datetime.now(UTC)))
    async with http.post(url + path, data=data, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def _post_signals(http: aiohttp.ClientSession, urls: list[str], count: int = SIGNALS) -> set[str]:
    """`count` signals, to each instance in turn; answers their short ids."""
    now = datetime.now(UTC)
    shorts = set()
    for n in range(count):
        body = signal_body(time=rfc3339(now - timedelta(seconds=n)))  # distinct times: none is a duplicate
        status, created = await _signed(http, urls[n % 2], "/api/v1/signals", body, SignedHeaders())
        assert status == 201, created
        shorts.add(created["id"].replace("-", "")[-8:])
    return shorts


async def _bad_signatures(http: aiohttp.ClientSession, urls: list[str]) -> None:
    """A burst of bad signatures at each instance: both see it, so both raise the alert."""
    leaked = SignedHeaders(secret="not-the-producers-secret-123")
    for url in urls:
        for _ in range(AUTH_BURST):
            status, _ = await _signed(http, url, "/api/v1/signals", signal_body(), leaked)
            assert status == 401


def _cards(messages: list[SentMessage]) -> list[SentMessage]:
    return [m for m in messages if m.text and "R:R" in m.text]


async def _all_cards(telegram: BotApiEmulator, trader: int, count: int = SIGNALS) -> list[SentMessage]:
    messages = await telegram.wait_for_messages(trader, lambda m: len(_cards(m)) >= count, timeout=60)
    return _cards(messages)


async def _count(runner: BatchRunner, statement: Any) -> int:
    return await runner.run(lambda conn: conn.execute(statement).scalar_one())


async def _until_executed_and_sent(runner: BatchRunner, approvals: int) -> None:
    decisions, outbox = DecisionRow.__table__, OutboxRow.__table__
    placed = select(func.count()).where(decisions.c.execution == "placed")
    waiting = select(func.count()).where(outbox.c.state.in_(("pending", "sending")))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        if await _count(runner, placed) == approvals and await _count(runner, waiting) == 0:
            return
        await asyncio.sleep(0.05)  # waiting for other processes to finish, not ordering anything
    raise AssertionError(f"{await _count(runner, placed)} of {approvals} approvals placed, {await _count(runner, waiting)} messages unsent")


async def _heartbeats(http: aiohttp.ClientSession, url: str) -> float:
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    match = re.search(r"^signaldesk_heartbeats_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.postgres
async def test_two_instances_behind_one_webhook_act_as_one_desk(pg_database: str) -> None:
    engine = create_engine(pg_database)
    await migrate.upgrade(engine)
    runner = batch_runner_for(engine)
    try:
        async with (
            BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram,
            round_robin([]) as (balancer, balancer_url),
            aiohttp.ClientSession() as http,
        ):
            webhook_url = f"{balancer_url}/telegram/webhook"
            processes = [await start_serve(env=_serve_env(pg_database, telegram, webhook_url)) for _ in range(2)]
            try:
                urls = [await served_url(process) for process in processes]
                balancer.backends.extend(urls)
                await _bad_signatures(http, urls)
                shorts = await _post_signals(http, urls)
                cards = {trader: await _all_cards(telegram, trader) for trader in TRADERS}
                # The quote comes after the cards (so they go as text, without a chart to render) and before
                # the presses, so every approval can be placed at once.
                quote = {"instrument": "XAUUSD", "bid": 2400.30, "ask": 2400.60, "time": rfc3339(datetime.now(UTC))}
                assert (await _signed(http, urls[0], "/api/v1/quotes", {"quotes": [quote]}, SignedHeaders()))[0] == 202
                presses = [telegram.press(trader, card.message_id, button="Approve") for trader in TRADERS for card in cards[trader]]
                answers = [await telegram.wait_for_answer(press, timeout=30) for press in presses]
                await _until_executed_and_sent(runner, approvals=len(presses))
                heartbeats = [await _heartbeats(http, url) for url in urls]
                pids = [f"{socket.gethostname()}:{process.pid}" for process in processes]
                holder = await SqlJobLeases(runner).current(DESK_JOBS)
                assert holder is not None and holder.holder in pids
                leader = pids.index(holder.holder)

                processes[leader].kill()  # the holder dies; its lease runs out and the other takes its jobs
                await processes[leader].wait()
                shorts |= await _post_signals(http, [urls[1 - leader]], count=1)
                for trader in TRADERS:
                    await _all_cards(telegram, trader, count=SIGNALS + 1)  # sent by the new holder's sender
                successor = await SqlJobLeases(runner).current(DESK_JOBS)
            finally:
                for process in processes:
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
                await asyncio.gather(*(process.wait() for process in processes))

            assert telegram.state.webhook is not None and telegram.state.webhook.url == webhook_url, "both set one webhook"
            assert all(balancer.served[url] > 0 for url in urls), f"updates should land on both instances: {balancer.served}"
            assert all(answer.text.startswith("Approved") for answer in answers)
            for trader in TRADERS:
                per_signal = Counter(CARD_ID.search(card.text or "").group(1) for card in _cards(telegram.messages(trader)))
                assert set(per_signal) == shorts and set(per_signal.values()) == {1}, f"trader {trader}: cards not exactly once"
            ops = [m.text or "" for m in telegram.messages(ADMIN)]
            assert sum("failed authentications" in text for text in ops) == 1, ops
            assert len(ops) == len(set(ops)), f"an alert reached ops twice: {ops}"

            assert heartbeats[leader] > 0 and heartbeats[1 - leader] == 0, f"heartbeat ran off the lease holder: {heartbeats}"
            assert successor is not None and successor.holder == pids[1 - leader]

        orders = TradeOrderRow.__table__
        assert await _count(runner, select(func.count()).select_from(orders)) == SIGNALS * len(TRADERS)
        pairs = select(func.count()).select_from(select(orders.c.account_id, orders.c.signal_id).distinct().subquery())
        assert await _count(runner, pairs) == SIGNALS * len(TRADERS), "an approval became two orders"
    finally:
        await runner.close()
        await engine.dispose()
