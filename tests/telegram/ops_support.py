"""Helpers for the ops alert tests: settings with a known window, waiting for alerts in the ops chat and
for suppressed ones in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.config import AlertSettings, SchedulerSettings, Settings
from bot.emulator import BotApiEmulator
from tests.telegram.conftest import ADMIN

WINDOW = 300
REPEATED = "1 repeat(s) of this alert suppressed"


def with_alerts(settings: Settings, **scheduler: Any) -> Settings:
    return settings.model_copy(update={
        "alerts": AlertSettings(window_seconds=WINDOW, auth_failures=3, auth_failure_window_seconds=60),
        "scheduler": SchedulerSettings(**scheduler),
    })


async def ops_alerts(emulator: BotApiEmulator, phrase: str, count: int = 1) -> list[str]:
    """The ops chat's alerts containing `phrase`, once there are `count` of them."""
    messages = await emulator.wait_for_messages(ADMIN, lambda ms: sum(phrase in (m.text or "") for m in ms) >= count, timeout=15)
    return [m.text or "" for m in messages if phrase in (m.text or "")]


async def logged(caplog: pytest.LogCaptureFixture, condition: Callable[[str], bool]) -> None:
    """Wait until the log has a line meeting `condition` (how a suppressed alert shows: in the log only)."""
    async with asyncio.timeout(15):
        while not any(condition(r.getMessage()) for r in caplog.records):
            await asyncio.sleep(0.02)


def suppressed(kind: str) -> Callable[[str], bool]:
    return lambda line: line.startswith("event=ops_alert_suppressed") and f"kind={kind} " in line
