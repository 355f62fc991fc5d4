"""Ingest throughput: signed POSTs against `signaldesk serve` (SQLite) versus a trivial aiohttp handler.

Run by hand:  python benchmarks/ingest.py [--seconds 10] [--connections 32] [--runs 1]
Needs wrk (Debian: apt-get install wrk). Both servers get the same pre-signed requests from wrk
(1 thread, N connections); the trivial handler is the physical limit of aiohttp on this machine, so
the ratio says how much of it the real ingest path keeps. The producer rate limit is off. Each run
measures both servers back to back on a fresh database; with several runs (the figures are noisy on
a shared machine) the summary gives the median ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.signing import format_timestamp, sign  # noqa: E402

PRODUCER, SECRET = "bench", "bench-secret-0123456789"
TRIVIAL_SERVER = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({"id": "x", "status": "new"}, status=201)
app = web.Application()
app.router.add_post("/api/v1/signals", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""
LUA = """
local requests = dofile("{requests}")
local i = 0
request = function()
  i = i + 1
  return requests[(i - 1) % #requests + 1]
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="measure both servers this many times")
    parser.add_argument("--requests", type=int, default=100_000, help="distinct pre-signed requests")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("benchmarks/ingest.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 1
    ratios = []
    with tempfile.TemporaryDirectory(prefix="signaldesk-bench-") as tmp:
        work = Path(tmp)
        script = write_wrk_script(work, args.requests)
        for run in range(args.runs):
            baseline = measure(start_trivial(), script, args)
            db = work / f"bench-{run}.db"
            desk = measure(start_signaldesk(db), script, args)
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
            report(baseline, desk, stored)
            ratios.append(desk["rps"] / baseline["rps"])
    if args.runs > 1:
        print(f"median ratio of {args.runs} runs: {statistics.median(ratios):.2f}x "
              f"(runs: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


def write_wrk_script(work: Path, count: int) -> Path:
    now = datetime.now(UTC)
    stamp = format_timestamp(now)
    lines = ["return {"]
    for i in range(count):
        body = json.dumps({
            "instrument": "XAUUSD", "side": "buy", "price": 2400.5, "stop_loss": 2390, "take_profit": 2420,
            "time": stamp, "version": i + 1, "external_id": f"bench-{i}",
        }).encode()
        signature = sign(SECRET, "POST", "/api/v1/signals", stamp, PRODUCER, body)
        raw = (
            "POST /api/v1/signals HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Producer-Id: {PRODUCER}\r\nX-Timestamp: {stamp}\r\nX-Signature: {signature}\r\n"
            f"X-Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n\r\n{body.decode()}"
        )
        lines.append(lua_string(raw) + ",")
    lines.append("}")
    requests = work / "requests.lua"
    requests.write_text("\n".join(lines))
    script = work / "replay.lua"
    script.write_text(LUA.format(requests=requests))
    return script


def lua_string(text: str) -> str:
    # Long brackets would turn \r\n into \n and break HTTP framing; escape a plain string instead.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    return f'"{escaped}"'


def start_trivial() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    return subprocess.Popen([sys.executable, "-c", TRIVIAL_SERVER, str(port)]), port


def start_signaldesk(db: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SIGNALDESK_DATABASE__URL": f"sqlite+aiosqlite:///{db}",
        "SIGNALDESK_HTTP__PORT": str(port),
        "SIGNALDESK_SIGNALS__RATE_PER_SECOND": "0",
        "SIGNALDESK_LOG__LEVEL": "WARNING",
        "SIGNALDESK_PRODUCERS": json.dumps([{"id": PRODUCER, "secrets": [SECRET]}]),
    }
    cli = shutil.which("signaldesk") or str(Path(sys.executable).with_name("signaldesk"))
    return subprocess.Popen([cli, "serve"], env=env, cwd=db.parent), port


def measure(started: tuple[subprocess.Popen[bytes], int], script: Path, args: argparse.Namespace) -> dict[str, float]:
    process, port = started
    try:
        wait_for_port(port)
        with OtherLoad() as other:
            out = subprocess.run(
                ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True, text=True, check=True,
            ).stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {**parse_wrk(out), "other_cpu": other.cpu_seconds}


class OtherLoad:
    """CPU seconds used during a run by processes that are not this benchmark's (Linux only).

    On a shared machine a test suite running beside the benchmark takes a core from it; such a run's
    figures say little. Samples /proc four times a second, so short-lived processes count too."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> OtherLoad:
        if Path("/proc/self/stat").exists():
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        before = _cpu_by_process()
        while not self._stop.wait(0.25):
            now = _cpu_by_process()
            ours = _descendants(now, os.getpid())
            self.cpu_seconds += sum(
                max(0, cpu - before.get(pid, (0, cpu))[1]) for pid, (_, cpu) in now.items() if pid not in ours
            ) / tick
            before = now


def _cpu_by_process() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, user + system clock ticks)"""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            found[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _descendants(processes: dict[int, tuple[int, int]], root: int) -> set[int]:
    family, grew = {root}, True
    while grew:
        children = {pid for pid, (parent, _) in processes.items() if parent in family} - family
        family |= children
        grew = bool(children)
    return family


def parse_wrk(out: str) -> dict[str, float]:
    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50"),
        "p99": latency("99"),
        "total": total,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def report(baseline: dict[str, float], desk: dict[str, float], stored: int) -> None:
    accepted = desk["total"] - desk["non_2xx"]
    print(f"{'server':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'trivial aiohttp handler':<28}{baseline['rps']:>10.0f}{baseline['p50']:>10.2f}{baseline['p99']:>10.2f}")
    print(f"{'signaldesk serve (SQLite)':<28}{desk['rps']:>10.0f}{desk['p50']:>10.2f}{desk['p99']:>10.2f}")
    print(f"ratio: {desk['rps'] / baseline['rps']:.2f}x the baseline (target >= 0.35x)")
    print(f"signaldesk answered {desk['total']} requests: {accepted} accepted (2xx), {desk['non_2xx']} refused, "
          f"socket errors: {desk['socket_errors']}; rows in the database: {stored} "
          f"({'every acknowledged signal is stored' if stored >= accepted else 'MISSING ROWS'})")
    other = max(baseline["other_cpu"], desk["other_cpu"])
    if other > 0.5:
        print(f"warning: other processes used {other:.1f} CPU seconds during a measurement; its figures are low")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


if __name__ == "__main__":
    sys.exit(main())
