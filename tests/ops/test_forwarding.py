"""Outbound forwarding through the whole desk: accepted signals reach each [[forward]] target signed with the
producer scheme, once, through retries spaced by the backoff; a target that keeps failing or refuses costs
one ops alert; another SignalDesk takes the forward on its own producer API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.forwarding import HttpForwardPoster, forward_targets
from core.forward_policy import ForwardEvent, ForwardItem, forward_body
from core.forwarding import ForwardRequest
from tests.conftest import Api, make_settings
from tests.ops.forward_support import (
    FORWARD_PRODUCER,
    FORWARD_SECRET,
    RECEIVER_PATH,
    Receiver,
    receiving,
    rows_when,
    target,
)
from tests.support import FakeClock, SignedHeaders, signal_body
from tests.telegram.ops_support import logged


async def _desk(api_factory: Any, database_url: str, receiver: Receiver, **forward: Any) -> Api:
    return await api_factory(make_settings(database_url, forward=[target(receiver.url, events=["accepted"], **forward)]))


async def _accepted(api: Api, **fields: Any) -> dict[str, Any]:
    status, _, signal = await api.post_signal(signal_body(**fields))
    assert status == 201, signal
    return signal


async def test_a_target_failing_three_times_gets_the_signal_once_signed_with_backoff_between_tries(
    api_factory: Any, database_url: str, clock: FakeClock
) -> None:
    async with receiving(clock, [503, 503, 503, 201]) as receiver:
        api = await _desk(api_factory, database_url, receiver)
        signal = await _accepted(api, external_id="tv-1", payload={"rsi": 71.2})
        waits = []
        for failures in (1, 2, 3):
            [row] = await rows_when(api, lambda rows, n=failures: rows[0].attempts == n and rows[0].state == "pending")
            waits.append((row.due_at - receiver.received[-1].at).total_seconds())
            clock.advance((row.due_at - clock.now()).total_seconds())  # exactly when the retry is due
            assert api.desk.forwarder is not None
            api.desk.forwarder.wake()
        [row] = await rows_when(api, lambda rows: rows[0].state == "delivered")

    # Backoff x2 from 1 s, each within +-10 %; no try came before its time (the clock only moved to each due time).
    assert all(0.9 * base <= wait <= 1.1 * base for wait, base in zip(waits, (1, 2, 4), strict=True)), waits
    tries = receiver.received
    assert [t.status for t in tries] == [503, 503, 503, 201] and row.attempts == 4
    assert all(t.signed_correctly for t in tries)
    assert {t.headers["X-Idempotency-Key"] for t in tries} == {f"{signal['id']}-accepted"}
    assert {t.body for t in tries} == {tries[0].body} and tries[0].headers["X-SignalDesk-Event"] == "accepted"
    assert tries[0].json() == {
        "instrument": "XAUUSD", "side": "buy", "price": 2400.5, "stop_loss": 2390, "take_profit": 2420,
        "time": "2026-11-23T10:00:00Z", "version": 1, "external_id": signal["id"], "payload": {"rsi": 71.2},
    }


async def test_a_target_that_always_fails_costs_one_ops_alert(
    api_factory: Any, database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with receiving(clock, [503]) as receiver:
        api = await _desk(api_factory, database_url, receiver, max_attempts=3)
        await _accepted(api, external_id="a")
        await _accepted(api, external_id="b", version=2)
        for failures in (1, 2):
            await rows_when(api, lambda rows, n=failures: len(rows) == 2 and all(r.attempts == n and r.state == "pending" for r in rows))
            clock.advance(10)  # past any backoff so far
            assert api.desk.forwarder is not None
            api.desk.forwarder.wake()
        rows = await rows_when(api, lambda rows: all(r.state == "failed" for r in rows))
        assert [r.attempts for r in rows] == [3, 3] and len(receiver.received) == 6
        await logged(caplog, lambda line: "ops_alert_suppressed kind=forward_retries_exhausted" in line)

    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=ops_alert kind=forward_retries_exhausted")]
    assert len(alerts) == 1
    assert f"subject='forward target {receiver.url}'" in alerts[0] and "failed 3 times" in alerts[0] and "HTTP 503" in alerts[0]


async def test_a_target_that_refuses_is_not_retried_and_alerts_with_its_reason(
    api_factory: Any, database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signaldesk.ops_alerts")
    async with receiving(clock, [422]) as receiver:
        api = await _desk(api_factory, database_url, receiver)
        await _accepted(api)
        [row] = await rows_when(api, lambda rows: rows[0].state == "failed")
        await logged(caplog, lambda line: "kind=forward_refused" in line)
    assert row.attempts == 1 and len(receiver.received) == 1
    [alert] = [r.getMessage() for r in caplog.records if "kind=forward_refused" in r.getMessage()]
    assert "severity=critical" in alert and "HTTP 422 Unprocessable Entity: test receiver says 422" in alert


async def test_another_signaldesk_accepts_the_forward_and_answers_a_retry_as_a_replay(
    api_factory: Any, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    producer = {"id": FORWARD_PRODUCER, "secrets": [FORWARD_SECRET]}
    desk_b = await api_factory(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'desk-b.db'}", producers=[producer]))
    settings = make_settings(database_url, forward=[target(desk_b.base_url + RECEIVER_PATH)])
    desk_a = await api_factory(settings)
    signal = await _accepted(desk_a, external_id="tv-9")
    [row] = await rows_when(desk_a, lambda rows: rows[0].state == "delivered")
    assert row.attempts == 1

    status, _, page = await desk_b.request("GET", RECEIVER_PATH, signer=SignedHeaders(FORWARD_PRODUCER, FORWARD_SECRET))
    [copy] = page["signals"]
    assert status == 200 and copy["external_id"] == signal["id"] and copy["status"] == "new"
    same = ("instrument", "side", "price", "stop_loss", "take_profit", "time", "version")
    assert {k: copy[k] for k in same} == {k: signal[k] for k in same}

    # The same delivery again (as after a lost answer): the receiver replays its signal instead of storing another.
    stored = await desk_a.desk.store.get(signal["id"])
    assert stored is not None
    item = ForwardItem(row.id, row.target, ForwardEvent.ACCEPTED, stored, 2, row.queued_at)
    async with aiohttp.ClientSession() as session:
        answer = await HttpForwardPoster(session, clock).post(
            forward_targets(settings.forward)[0], ForwardRequest(forward_body(stored), item.idempotency_key, item.event)
        )
    assert answer.status == 200
    status, _, page = await desk_b.request("GET", RECEIVER_PATH, signer=SignedHeaders(FORWARD_PRODUCER, FORWARD_SECRET))
    assert [s["id"] for s in page["signals"]] == [copy["id"]]
