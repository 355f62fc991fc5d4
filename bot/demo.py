"""`signaldesk demo`: the desk on a throw-away SQLite database, fed by a scripted producer."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_desk, serve_http
from bot.config import load_settings
from bot.producer_client import ProducerApiError, ProducerClient, SendResult

PRODUCER_ID = "demo-strategy"


async def run_demo(*, port: int = 0, out: Callable[[str], None] = print) -> int:
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="signaldesk-demo-") as tmp:
        settings = load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"},
            http={"port": port},
            producers=[{"id": PRODUCER_ID, "secrets": [secret]}],
        )
        async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", port) as url:
            out(f"SignalDesk demo — producer API on {url}, database in a temporary folder")
            async with ProducerClient(url, PRODUCER_ID, secret) as client:
                await _tour(client, ProducerClient(url, PRODUCER_ID, secret, clock=_ten_minutes_ago), out)
    out("\nDone. Nothing is left running and the temporary database is gone.")
    return 0


def _ten_minutes_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=10)


async def _tour(client: ProducerClient, late_client: ProducerClient, out: Callable[[str], None]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    gold = dict(instrument="XAUUSD", side="buy", price="2400.50", stop_loss="2390.00", take_profit="2420.00")

    await _step(out, "1. A strategy sends a gold buy (entry 2400.50, stop 2390.00, target 2420.00)",
                lambda: client.send_signal(**gold, time=now, external_id="tv-1001"))
    await _step(out, "2. The same alert fires again (same external_id)",
                lambda: client.send_signal(**gold, time=now, external_id="tv-1001"))
    async with late_client:
        await _step(out, "3. A relay with a clock 10 minutes slow sends a signal",
                    lambda: late_client.send_signal("EURUSD", "sell", "1.07200", "1.07400", "1.06800", time=now))
    await _step(out, "4. A EURUSD buy risking 20 pips to make 10 (reward:risk 0.5)",
                lambda: client.send_signal("EURUSD", "buy", "1.07200", "1.07000", "1.07300", time=now))
    page = await client.list_signals()
    out(f"\nThe desk now holds {len(page['signals'])} signal(s) from {PRODUCER_ID}: "
        + ", ".join(f"{s['instrument']} {s['side']} ({s['status']})" for s in page["signals"]))


async def _step(out: Callable[[str], None], title: str, send: Callable[[], Awaitable[SendResult]]) -> None:
    out(f"\n{title}")
    try:
        result = await send()
    except ProducerApiError as exc:
        out(f"   refused  HTTP {exc.status} {exc.title}: {exc.detail}")
        return
    s = result.signal
    out(f"   accepted HTTP {201 if result.created else 200} signal {s['id'][-8:]} — {s['instrument']} {s['side']} "
        f"@ {s['price']} SL {s['stop_loss']} TP {s['take_profit']}, status {s['status']}")
