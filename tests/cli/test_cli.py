"""The `signaldesk` command as a user runs it: real processes, real exit codes, real output."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import aiohttp

from tests.processes import run_cli, served_url, start_serve
from tests.support import SECRET, SignedHeaders, encode, rfc3339, signal_body



def write_config(path: Path, db: Path, port: int = 0) -> Path:
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n[http]\nport = {port}\n'
        f'[[producers]]\nid = "alpha"\nsecrets = ["{SECRET}"]\n'
    )
    return path


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "demo", "config", "db", "audit", "send-signal", "send-quote", "tradingview", "emulator"):
        assert command in result.stdout


def test_config_check_prints_effective_config_with_secrets_redacted(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    result = run_cli("config", "check", "--config", str(config), env={"SIGNALDESK_HTTP__PORT": "9999"})
    assert result.returncode == 0, result.stderr
    effective = json.loads(result.stdout)
    assert effective["http"]["port"] == 9999  # the environment overrides the file
    assert effective["producers"][0]["secrets"] == ["**********"]
    assert SECRET not in result.stdout + result.stderr


def test_config_check_names_each_bad_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[signals]\nmax_body_bytes = "lots"\nunknown_key = 1\n[[producers]]\nid = "a"\nsecrets = ["short-secret-1"]\n')
    result = run_cli("config", "check", "--config", str(config), env={"SIGNALDESK_RISK__MAX_DRAWDOWN_PERCENT": "150"})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "signaldesk: invalid configuration:"
    assert any(line.strip().startswith("signals.max_body_bytes:") for line in lines)
    assert "  signals.unknown_key: unknown key" in lines
    assert any(line.strip().startswith("risk.max_drawdown_percent:") and "99" in line for line in lines)
    assert any(line.strip() == "producers.0.secrets: every secret must be at least 16 bytes" for line in lines)
    assert "short-secret-1" not in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("config", "check", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "nope.toml not found" in result.stderr


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    result = run_cli("db", "upgrade", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert re.search(r"database schema is at revision \w+", result.stdout)


def test_serve_refuses_an_outdated_schema_when_auto_migrate_is_off(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    result = run_cli("serve", "--config", str(config), env={"SIGNALDESK_DATABASE__AUTO_MIGRATE": "false"})
    assert result.returncode == 1 and "run `signaldesk db upgrade`" in result.stderr


def test_serve_with_mt5_off_windows_says_what_is_missing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    result = run_cli("serve", "--config", str(config), env={"SIGNALDESK_BROKER__KIND": "mt5"})
    assert result.returncode == 1
    assert "broker.kind = mt5 needs the MetaTrader5 package" in result.stderr and "Traceback" not in result.stderr


async def test_serve_accepts_signals_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    process = await start_serve("--config", str(config))
    try:
        url = await served_url(process)
        raw = encode(signal_body(time=rfc3339(_now())))
        async with aiohttp.ClientSession() as session:
            headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(_now()))
            async with session.post(url + "/api/v1/signals", data=raw, headers=headers) as r:
                assert r.status == 201
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()


async def test_send_signal_prints_the_created_signal_then_the_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    process = await start_serve("--config", str(config))
    try:
        url = await served_url(process)
        args = ["send-signal", "--url", url, "--producer-id", "alpha", "--secret-env", "ALPHA_SECRET",
                "--instrument", "XAUUSD", "--side", "buy", "--price", "2400.50", "--stop-loss", "2390",
                "--take-profit", "2420", "--external-id", "cli-1"]
        first = await asyncio.to_thread(run_cli, *args, env={"ALPHA_SECRET": SECRET})
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["signal"]["status"] == "new"
        again = await asyncio.to_thread(run_cli, *args, env={"ALPHA_SECRET": SECRET})
        assert again.returncode == 1 and "HTTP 409" in again.stderr and "external_id 'cli-1'" in again.stderr
        unset = await asyncio.to_thread(run_cli, *args, env={"ALPHA_SECRET": ""})
        assert unset.returncode == 1 and "ALPHA_SECRET is empty or not set" in unset.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)


async def test_send_quote_prints_the_verdict_and_names_a_bad_time(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "x.db")
    process = await start_serve("--config", str(config))
    try:
        url = await served_url(process)
        args = ["send-quote", "--url", url, "--producer-id", "alpha", "--secret-env", "ALPHA_SECRET", "--instrument", "EURUSD"]
        first = await asyncio.to_thread(run_cli, *args, "--bid", "1.07120", "--ask", "1.07135", env={"ALPHA_SECRET": SECRET})
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout) == {"accepted": 1, "refused": 0, "results": [{"instrument": "EURUSD", "status": "accepted"}]}
        jump = await asyncio.to_thread(run_cli, *args, "--bid", "107.120", "--ask", "107.135", env={"ALPHA_SECRET": SECRET})
        assert jump.returncode == 0 and json.loads(jump.stdout)["results"][0]["problem"] == "jump"
        bad = await asyncio.to_thread(run_cli, *args, "--bid", "1.07", "--ask", "1.08", "--time", "yesterday", env={"ALPHA_SECRET": SECRET})
        assert bad.returncode == 1 and "--time 'yesterday' is not an RFC 3339 time" in bad.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
