"""`signaldesk demo` as a newcomer runs it: a real process, offline, in a folder of their own; and the desk it
can leave running, talked to with `signaldesk emulator` and `signaldesk send-signal` as the tour says."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from tests.processes import CLI

TOUR_SECONDS = 240  # a generous bound for a loaded CI machine; the tour itself takes well under a minute
PNG = b"\x89PNG\r\n\x1a\n"
# Wide, so no line of the conversation is wrapped; the user's own settings must not change the tour.
ENV = {**os.environ, "COLUMNS": "200", "SIGNALDESK_RISK__MAX_DRAWDOWN_PERCENT": "50", "SIGNALDESK_TELEGRAM__MODE": "webhook"}


def bubbles(out: str) -> list[tuple[str, str]]:
    """Each message the bot sent in the transcript: (recipient, its text)."""
    found = []
    for match in re.finditer(r"╭─ SignalDesk → (\w+) · #\d+ ─*╮\n(.*?)╰", out, re.S):
        lines = [line.strip().strip("│").strip() for line in match.group(2).splitlines()]
        found.append((match.group(1), "\n".join(lines)))
    return found


def said_to(out: str, person: str) -> str:
    return "\n".join(text for name, text in bubbles(out) if name == person)


def assert_nothing_left_running(process_group: int) -> None:
    """No process of the demo's group still runs. Its helper processes (multiprocessing's fork server) notice
    the demo is gone and exit on their own, which takes a moment; zombies only wait for a reaper."""
    deadline = time.monotonic() + 15
    while running := _running_in(process_group):
        assert time.monotonic() < deadline, f"still running after the demo ended: {running}"
        time.sleep(0.1)


def _running_in(process_group: int) -> list[str]:
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == process_group and state != "Z":
            running.append(stat.parent.name)
    return running


def test_the_tour_runs_offline_and_reads_like_the_chats(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[risk]\nmax_drawdown_percent = 60\n")  # someone's real config, ignored
    process = subprocess.Popen(
        [*CLI, "demo"], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    out, err = process.communicate(timeout=TOUR_SECONDS)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert_nothing_left_running(process.pid)

    # The producers: four signals in (one from TradingView), one refused with its reason.
    assert out.count("⇠ 201 Created · signal #") == 4
    assert "TradingView ⇢ POST /api/v1/tradingview/tv-eurusd" in out
    assert re.search(r"⇠ 422 Invalid signal: take_profit: reward:risk is 0\.62; at least 1\.5 is required", out)

    alice, bob, olga = said_to(out, "Alice"), said_to(out, "Bob"), said_to(out, "Olga")
    # Cards, decisions, orders, fills, a target and a stop.
    assert alice.count("Approve or reject this signal.") == 4
    assert len(re.findall(r"SignalDesk → Bob · #\d+: the same card  \[Approve\]  \[Reject\]", out)) == 4
    assert out.count("now reads: Approved by you.") == 5 and out.count("now reads: Rejected by you.") == 3
    assert alice.count("Order placed") == 2 and bob.count("Order placed") == 2
    assert "· take profit · PnL +" in alice and "· stop loss · PnL -" in alice
    assert "· stop loss · PnL -" in bob
    # The drawdown guard: Bob's position closed and his account blocked, Olga alerted, his next approval refused.
    assert "Drawdown limit reached on your account" in bob and "· drawdown guard · PnL -" in bob
    assert "CRITICAL · drawdown" in olga and "Subject: account tg-1002" in olga
    assert "new orders are blocked on your account by the drawdown guard" in bob
    # The commands.
    assert "Open positions (1)" in alice
    assert "Statistics\nTrades 2: 1 won, 1 lost" in alice
    assert "Equity · tg-1002" in bob
    assert "Database: up" in olga and "tg-1002: 3.67 % of 3.50 % cap · BLOCKED" in olga

    charts = sorted((tmp_path / "signaldesk-demo").glob("*.png"))
    assert [c.name for c in charts] == [
        "01-eurusd-buy.png", "02-eurusd-sell.png", "03-eurusd-buy.png", "04-eurusd-sell.png",
        "05-pnl-per-closed-trade-tg-1001.png", "06-equity-tg-1002.png",
    ]
    assert all(chart.read_bytes().startswith(PNG) for chart in charts)
    assert f"The 6 charts the bot sent are in {tmp_path / 'signaldesk-demo'}/" in out
    assert "chart: signaldesk-demo/01-eurusd-buy.png" in out  # each photo is named where it was sent
    assert "Everything has stopped" in out


async def test_a_desk_left_running_answers_the_emulator_commands_until_interrupted(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "demo", "--keep-running", "--port", "0", "--emulator-port", "0", cwd=tmp_path, env=ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
    )
    try:
        shown = await asyncio.wait_for(_until_running(process), TOUR_SECONDS)
        emulator = re.search(r"Bot API emulator\s+(http://\S+)", shown)
        api = re.search(r"producer API\s+(http://\S+)", shown)
        secret = re.search(r"export DEMO_SECRET='([^']+)'", shown)
        assert emulator and api and secret, shown

        status = await _cli(tmp_path, "emulator", "say", "1003", "/status", "--url", emulator.group(1))
        assert "Olga ▸ /status" in status and "Database: up" in status

        async with aiohttp.ClientSession(f"{emulator.group(1)}/_emulator/") as control:
            before = await _message_count(control, 0)
            await _cli(
                tmp_path, "send-signal", "--url", api.group(1), "--producer-id", "trend-bot", "--secret-env", "DEMO_SECRET",
                "--instrument", "EURUSD", "--side", "sell", "--price", "1.23400", "--stop-loss", "1.23600",
                "--take-profit", "1.23100", env={"DEMO_SECRET": secret.group(1)},
            )
            await _message_count(control, before + 1)  # the card is in Alice's chat
        card = await _cli(tmp_path, "emulator", "show", "1001", "--last", "1", "--url", emulator.group(1))
        message = re.search(r"SignalDesk → Alice · #(\d+)", card)
        assert message and "EURUSD · SELL" in card and "[Approve]  [Reject]" in card, card
        chart = tmp_path / "signaldesk-demo" / f"chat1001-{message.group(1)}-eurusd-sell.png"
        assert f"chart: {chart.relative_to(tmp_path)}" in card and chart.read_bytes().startswith(PNG)

        pressed = await _cli(tmp_path, "emulator", "press", "1001", message.group(1), "Approve", "--url", emulator.group(1))
        assert "(pop-up) Approved." in pressed and "now reads: Approved by you." in pressed
        assert "Order placed for signal" in pressed  # the desk, back in real time, executes it at once
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
        assert await asyncio.wait_for(process.wait(), 30) == 0
    assert_nothing_left_running(process.pid)


async def _until_running(process: asyncio.subprocess.Process) -> str:
    """The demo's output up to its last instruction (it then waits for Ctrl-C)."""
    assert process.stdout is not None
    shown = ""
    while "signaldesk send-quote" not in shown:
        line = (await process.stdout.readline()).decode()
        assert line, f"the demo ended early:\n{shown}"
        shown += line
    return shown


async def _message_count(control: aiohttp.ClientSession, at_least: int) -> int:
    """How many messages the bot sent Alice, once there are `at_least` (the emulator waits, up to 20 s)."""
    async with control.get(f"chats/1001/messages?min_count={at_least}&timeout=20") as response:
        assert response.status == 200
        return len((await response.json())["messages"])


async def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = await asyncio.to_thread(
        subprocess.run, [*CLI, *args], cwd=cwd, env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
