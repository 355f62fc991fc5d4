"""Telling a crashed process's instance name from a live one (the lease of the dead one is taken at once)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from bot.instance import crashed_here, instance_name


def test_a_process_that_ended_on_this_host_crashed_here_and_a_live_one_did_not() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    assert crashed_here(f"{socket.gethostname()}:{ended.stdout.strip()}")
    assert not crashed_here(instance_name())  # this very process
    assert not crashed_here(f"{socket.gethostname()}:{os.getppid()}")  # alive
    assert not crashed_here(f"another-host:{ended.stdout.strip()}")  # cannot know about other hosts
    assert not crashed_here("not an instance name")
