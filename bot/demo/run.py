"""Running the tour: the whole desk offline, in about a minute. The Bot API emulator plays Telegram, real
EURUSD prices are replayed, scripted producers and people act, and the terminal shows each chat."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from bot.demo.cast import EMULATOR_URL, FEED, FOLDER, PEOPLE, STRATEGY, TRADINGVIEW
from bot.demo.chats import Chats
from bot.demo.console import Transcript
from bot.demo.photos import Fetch, PhotoShelf
from bot.demo.stage import Ports, Stage, staged
from bot.demo.story import SCENES, Tour
from bot.emulator import BotApiEmulator

LOG_FILE = "desk.log"


async def run_demo(
    *, ports: Ports = Ports(), folder: Path = FOLDER, keep_running: bool = False, console: Console | None = None
) -> int:
    """Play the tour; with `keep_running`, leave the desk and the emulator up until SIGINT or SIGTERM."""
    folder = folder.resolve()
    transcript = Transcript(console or Console(), PEOPLE)
    with _logging_to(folder / LOG_FILE):
        async with staged(ports) as stage:
            transcript.heading("SignalDesk demo", _introduction(stage))
            photos = PhotoShelf(folder, _bytes_of(stage.telegram), label=lambda _message, number: f"{number:02d}")
            chats = Chats(stage.telegram, transcript, photos, {p.user_id: p.name for p in PEOPLE})
            with transcript.progress(SCENES):
                await Tour(stage, chats, transcript).play()
            where = [f"The {len(photos.kept)} charts the bot sent are in {folder}/, with the desk's log ({LOG_FILE})."]
            if keep_running:
                stage.clock.catch_up()  # from here on the desk runs in real time
                await stage.desk.heartbeat.beat()  # so the watchdog does not take the jump for a late beat
                transcript.done([*where, "", *_still_running(stage)], _try_these(stage))
                await _until_interrupted()
                return 0
        transcript.done([*where, "Everything has stopped and the temporary database is deleted."])
    return 0


def _introduction(stage: Stage) -> list[str]:
    first = stage.session.opens_at
    return [
        "Everything runs here, offline: the desk on a temporary SQLite database, and a Telegram Bot API emulator "
        "in place of Telegram. No token, no network.",
        f"Alice and Bob are traders; Olga is the admin and reads the ops chat. {STRATEGY} sends signed signals, "
        f"TradingView sends alerts (as {TRADINGVIEW}) and {FEED} pushes prices: real EURUSD hourly bars from "
        f"{first - stage.session.shift:%d %b %Y}, replayed as {first:%A %d %b}.",
        f"Producer API {stage.api_url} · Bot API emulator {stage.telegram.base_url}",
    ]


def _still_running(stage: Stage) -> list[str]:
    return [
        "The desk and the emulator keep running until Ctrl-C:",
        f"  producer API      {stage.api_url}",
        f"  Bot API emulator  {stage.telegram.base_url}",
        "Talk to the bot as Alice (1001), Bob (1002) or Olga (1003), send signals and push prices as trend-bot:",
    ]


def _try_these(stage: Stage) -> list[str]:
    alice, _, olga = PEOPLE
    url = "" if stage.telegram.base_url == EMULATOR_URL else f" --url {stage.telegram.base_url}"
    producer = f"--url {stage.api_url} --producer-id {STRATEGY} --secret-env DEMO_SECRET"
    return [
        f"signaldesk emulator say {olga.user_id} /status{url}",
        f"signaldesk emulator say {alice.user_id} /equity{url}",
        f"export DEMO_SECRET='{stage.strategy_secret}'  # {STRATEGY}'s secret, for this run only",
        f"signaldesk send-signal {producer} --instrument EURUSD --side sell --price 1.23400 --stop-loss 1.23600 --take-profit 1.23100",
        f"signaldesk emulator show {alice.user_id}{url}  # the card, and its message id",
        f"signaldesk emulator press {alice.user_id} <message id> Approve{url}",
        f"signaldesk send-quote {producer} --instrument EURUSD --bid 1.23405 --ask 1.23415",
    ]


def _bytes_of(telegram: BotApiEmulator) -> Fetch:
    async def fetch(file_id: str) -> bytes:
        return telegram.file(file_id).data

    return fetch


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """The desk logs to a file while the terminal shows the conversation (same format and filters as set up)."""
    root = logging.getLogger()
    previous = root.handlers[:]
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    for old in previous[:1]:
        handler.setFormatter(old.formatter)
        for log_filter in old.filters:
            handler.addFilter(log_filter)
    root.handlers[:] = [handler]
    try:
        yield
    finally:
        root.handlers[:] = previous
        handler.close()


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
