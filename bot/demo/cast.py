"""Who is in the tour (the people in Telegram and the producers), and where a user finds it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    role: str
    style: str  # a rich colour, for their name and the border of their chat


ALICE = Person(1001, "Alice", "trader", "cyan")
BOB = Person(1002, "Bob", "trader", "magenta")
OLGA = Person(1003, "Olga", "admin; the ops chat is hers", "yellow")
PEOPLE = (ALICE, BOB, OLGA)
STRATEGY, FEED, TRADINGVIEW = "trend-bot", "price-feed", "tv-eurusd"

FOLDER = Path("signaldesk-demo")  # the charts the bot sent and the desk's log
# With --keep-running the desk stays at fixed addresses, so `signaldesk emulator` finds it without --url.
KEPT_API_PORT, KEPT_EMULATOR_PORT = 8080, 8081
EMULATOR_URL = f"http://127.0.0.1:{KEPT_EMULATOR_PORT}"
