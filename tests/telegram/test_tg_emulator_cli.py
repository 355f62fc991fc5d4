"""`signaldesk emulator say/press/show` against a running emulator and desk: another process acts as a user and
prints what the bot answered, and says clearly what went wrong when it cannot."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator
from tests.conftest import Api
from tests.processes import run_cli
from tests.telegram.conftest import TRADERS, card_for, post_signal

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the CLI, not the database, is tested
TRADER = TRADERS[0]
WIDE = {"COLUMNS": "200"}  # no line of the output is wrapped


async def emulator_cli(emulator: BotApiEmulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        run_cli, "emulator", *args, "--url", emulator.base_url, "--out", str(tmp_path), cwd=tmp_path, env=WIDE
    )


@ON_SQLITE
async def test_say_and_press_print_what_the_bot_answered(desk: Api, emulator: BotApiEmulator, tmp_path: Path) -> None:
    said = await emulator_cli(emulator, tmp_path, "say", str(TRADER), "/start")
    assert said.returncode == 0, said.stderr
    assert f"user {TRADER} ▸ /start" in said.stdout and f"Your Telegram user id is {TRADER}; your role: trader" in said.stdout

    card = await card_for(emulator, TRADER, await post_signal(desk))
    shown = await emulator_cli(emulator, tmp_path, "show", str(TRADER), "--last", "1")
    assert f"SignalDesk → user {TRADER} · #{card.message_id}" in shown.stdout and "[Approve]  [Reject]" in shown.stdout

    pressed = await emulator_cli(emulator, tmp_path, "press", str(TRADER), str(card.message_id), "Reject")
    assert pressed.returncode == 0, pressed.stderr
    assert "(pop-up) Rejected." in pressed.stdout
    assert re.search(rf"✎ user {TRADER}'s #{card.message_id} .* now reads: Rejected by you\. \[buttons removed\]", pressed.stdout)


@ON_SQLITE
async def test_a_press_that_cannot_happen_is_refused_with_the_reason(desk: Api, emulator: BotApiEmulator, tmp_path: Path) -> None:
    card = await card_for(emulator, TRADER, await post_signal(desk))
    assert (await emulator_cli(emulator, tmp_path, "press", str(TRADER), str(card.message_id), "Reject")).returncode == 0

    again = await emulator_cli(emulator, tmp_path, "press", str(TRADER), str(card.message_id), "Approve")
    assert again.returncode == 1
    assert f"message {card.message_id} has no button 'Approve'; its buttons: none" in again.stderr
    unknown = await emulator_cli(emulator, tmp_path, "press", str(TRADER), "9999", "Approve")
    assert unknown.returncode == 1 and f"the bot sent no message 9999 to user {TRADER}" in unknown.stderr
    assert "Traceback" not in again.stderr + unknown.stderr


def test_without_an_emulator_it_says_how_to_start_one(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run_cli("emulator", "say", "1001", "/status", "--url", url, cwd=tmp_path)
    assert result.returncode == 1
    assert f"no Bot API emulator answers at {url}; start one with `signaldesk demo --keep-running`" in result.stderr
