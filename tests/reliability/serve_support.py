"""Driving a real `signaldesk serve` process from the reliability tests: its environment, signed requests
on the system clock (the process runs on it), and reading its SQLite database independently."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.emulator import BotApiEmulator
from tests.processes import CLI
from tests.support import PRODUCER_ID, SECRET, SignedHeaders, encode, rfc3339


def serve_env(database: Path, emulator: BotApiEmulator, traders: list[int], ops_chat: int) -> dict[str, str]:
    return {
        **os.environ,
        "SIGNALDESK_DATABASE__URL": f"sqlite+aiosqlite:///{database}",
        "SIGNALDESK_HTTP__PORT": "0",
        "SIGNALDESK_SIGNALS__RATE_PER_SECOND": "0",
        "SIGNALDESK_PRODUCERS": json.dumps([{"id": PRODUCER_ID, "secrets": [SECRET]}]),
        "SIGNALDESK_TELEGRAM__TOKEN": emulator.token,
        "SIGNALDESK_TELEGRAM__API_BASE": emulator.base_url,
        "SIGNALDESK_TELEGRAM__TRADERS": json.dumps(traders),
        "SIGNALDESK_TELEGRAM__OPS_CHAT_ID": str(ops_chat),
        "SIGNALDESK_TELEGRAM__RATE_GLOBAL_PER_SECOND": "200",
        "SIGNALDESK_TELEGRAM__RATE_CHAT_PER_SECOND": "20",
        "SIGNALDESK_SCHEDULER__EXECUTION_INTERVAL_SECONDS": "0.2",
        "SIGNALDESK_SCHEDULER__EXECUTION_LEASE_SECONDS": "5",
    }


async def start_service(env: dict[str, str]) -> asyncio.subprocess.Process:
    """`signaldesk serve` in a process group of its own, as a service manager runs it: the desk's chart
    workers belong to it too."""
    return await asyncio.create_subprocess_exec(*CLI, "serve", env=env, stderr=asyncio.subprocess.PIPE, start_new_session=True)


async def kill_service(process: asyncio.subprocess.Process, signum: int = signal.SIGKILL) -> None:
    """Signal the whole group, as a service manager stopping or killing the service does. A SIGKILL of the
    main process alone leaves its chart workers running (holding its stderr open)."""
    os.killpg(process.pid, signum)
    await asyncio.wait_for(process.wait(), 30)


def now() -> datetime:
    return datetime.now(UTC)


async def post_signed(session: aiohttp.ClientSession, url: str, path: str, body: Any) -> tuple[int, Any]:
    raw = encode(body)
    headers = SignedHeaders().build("POST", path, raw, rfc3339(now()))
    async with session.post(url + path, data=raw, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def get_signed(session: aiohttp.ClientSession, url: str, path: str) -> int:
    headers = SignedHeaders().build("GET", path, b"", rfc3339(now()))
    async with session.get(url + path, headers=headers) as response:
        return response.status


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the desk's SQLite file directly (not through the code under test)."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()
