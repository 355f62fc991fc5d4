"""/status as an admin sees it: every part of the desk's health, and an answer even when a part hangs."""

from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal

import pytest

from bot.emulator import BotApiEmulator
from core.notify import OpsAlert, Severity
from tests.conftest import Api
from tests.telegram.conftest import ADMIN, TRADERS, card_for, post_signal, reply_to


async def test_status_shows_the_desk_at_a_glance(desk: Api, emulator: BotApiEmulator) -> None:
    await card_for(emulator, TRADERS[0], await post_signal(desk))
    logging.getLogger("bot.somewhere").error("event=broker_timeout account=%s", "tg-111")
    reply = await reply_to(emulator, ADMIN, "/status")
    assert "Database: up" in reply and "Broker: up" in reply
    assert "Signals today: new 1" in reply
    assert "Pending: 1 awaiting a decision, 0 approval(s) awaiting execution" in reply
    assert "Open positions: 0" in reply and re.search(r"Outbox: \d+ waiting", reply)
    assert f"tg-{TRADERS[0]}: 0.00 % of 20.00 % cap" in reply and f"tg-{TRADERS[1]}: 0.00 % of 20.00 % cap" in reply
    assert "Recent errors:" in reply and "bot.somewhere: event=broker_timeout account=tg-111" in reply
    assert "Heartbeat:" in reply


async def test_a_critical_ops_alert_shows_in_recent_errors_as_the_alert_reads(desk: Api, emulator: BotApiEmulator) -> None:
    what = "drawdown 25.00 % past the cap of 20.00 % (equity 7500.00, peak 10000.00) " + "and more detail " * 20
    await desk.desk.ops_alerts.alert(OpsAlert("drawdown_breach", Severity.CRITICAL, what, "account tg-111", "closed 2 positions"))
    await emulator.wait_for_messages(ADMIN, lambda ms: any("CRITICAL" in (m.text or "") for m in ms))  # the ops chat's copy
    reply = await reply_to(emulator, ADMIN, "/status")
    [line] = [line for line in reply.splitlines() if "ops alert" in line]
    assert "ops alert drawdown_breach: account tg-111: drawdown 25.00 % past the cap of 20.00 % (equity 7500.00" in line
    assert line.endswith("…") and "event=" not in line


async def test_status_answers_with_the_broker_hanging_and_says_it_is_down(
    desk: Api, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = asyncio.Event()
    never = asyncio.Event()  # the broker never answers

    async def hangs(account_id: str) -> Decimal:
        asked.set()
        await never.wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(desk.desk.trading.broker, "account_equity", hangs)
    reply = await reply_to(emulator, ADMIN, "/status")
    assert asked.is_set()  # the answer came while the broker call was still hanging
    assert "Broker: DOWN (no answer within 0.5 s)" in reply and "Database: up" in reply
    assert "Drawdown: no answer within 0.5 s" in reply
