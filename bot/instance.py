"""Which process this is, among the desk's instances on one database, and whether one of them died here."""

from __future__ import annotations

import os
import socket


def instance_name() -> str:
    """This process, as host and pid: what heartbeats, leases and execution claims are signed with, so two
    instances on one database can be told apart."""
    return f"{socket.gethostname()}:{os.getpid()}"


def crashed_here(instance: str) -> bool:
    """Whether `instance` (an `instance_name()`) was a process on this host that no longer runs: after a
    crash and restart, its leases can be taken at once instead of after they run out."""
    host, _, pid = instance.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False
