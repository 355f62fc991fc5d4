"""Running `signaldesk` as a real process from tests, as a user would."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "bot.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, cwd=cwd)


async def start_serve(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*CLI, "serve", *args, env=env, stderr=asyncio.subprocess.PIPE)


async def served_url(process: asyncio.subprocess.Process) -> str:
    """The URL `signaldesk serve` announces once it listens; its later output keeps being drained."""
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "serve exited before it was ready"
        if match := re.search(r"on (http://\S+)", line):
            asyncio.get_running_loop().create_task(_drain(process.stderr))
            return match.group(1)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass
