"""A chart worker whose desk was killed outright (SIGKILL) exits by itself instead of lingering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PARENT = """
import os, sys
from charts.renderer import process_pool
pool = process_pool(1)
pool.submit(os.getpid).result()  # the worker is up
print(*[p.pid for p in pool._processes.values()], flush=True)
sys.stdin.read()  # until killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie nobody reaps counts as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_worker_exits_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for another process to notice, not ordering anything here
    assert not _alive(worker), "the chart worker outlived its killed parent"
