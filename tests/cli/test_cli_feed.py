"""`signaldesk serve` with a CSV price replay ([feed] csv): history loaded, stopped cleanly, a bad file refused
with one clear line."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from tests.cli.test_cli import write_config
from tests.processes import run_cli, served_url, start_serve

EURUSD_H1 = Path(__file__).resolve().parents[2] / "bot" / "data" / "eurusd_h1.csv"


def with_feed(config: Path, csv: Path) -> Path:
    config.write_text(config.read_text() + f'[feed]\ncsv = "{csv}"\ninstrument = "EURUSD"\nspread_points = 10\n')
    return config


async def test_serve_replays_a_bar_file_loads_its_history_and_stops_cleanly(tmp_path: Path) -> None:
    config = with_feed(write_config(tmp_path / "c.toml", tmp_path / "x.db"), EURUSD_H1)
    process = await start_serve("--config", str(config))
    try:
        await served_url(process)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
    with sqlite3.connect(tmp_path / "x.db") as db:
        # The file's hourly bars, for charts; the replay may already have added a live bar of today's.
        [(bars, first)] = db.execute(
            "SELECT count(*), min(start) FROM price_bars WHERE instrument = 'EURUSD' AND start < '2026-01-01 00:00:00'"
        ).fetchall()
    assert (bars, first[:19]) == (5000, "2017-04-19 09:00:00")


def test_serve_refuses_an_unreadable_price_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close\n2026-01-05 08:00:00,1.07,1.06,1.08,1.07\n")
    result = run_cli("serve", "--config", str(with_feed(write_config(tmp_path / "c.toml", tmp_path / "x.db"), bad)))
    assert result.returncode == 1
    assert f"{bad}:2: inconsistent bar 1.07/1.06/1.08/1.07" in result.stderr and "Traceback" not in result.stderr
