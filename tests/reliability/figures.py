"""The reliability suite's figures: each test adds what it did (requests fuzzed, crashes injected, outages
survived, accepted signals checked after a crash) and what went wrong with the data (lost, duplicated; the
tests fail when either is not 0, so a green run prints 0). Printed at the end of a run that ran any of them.

The figures travel in each test's report, and the summary is printed by the root conftest: under
pytest-xdist the controller process collects nothing, so a hook in this folder's conftest would never run
there."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

# The SIGKILL test of execution lives with the execution tests; it is counted here rather than repeated.
EXECUTION_KILLS = "tests/execution/test_exec_processes.py::test_sigkill_at_random_moments_loses_and_repeats_no_approval"
_KILLS_PRINTED = re.compile(r"unfinished by each SIGKILL: \[([^\]]*)\]")
_ORDERS_PRINTED = re.compile(r"; orders: (\d+)")


@dataclass
class Figures:
    tests: int = 0
    requests_fuzzed: int = 0
    server_errors: int = 0
    crashes_injected: int = 0
    accepted_checked: int = 0  # signals answered 201 before a kill, looked for after the restart
    deliveries_checked: int = 0  # cards and alerts counted after restarts and outages
    orders_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    outages_survived: int = 0


PROPERTY = "reliability_figures"


def _collected(reporter: pytest.TerminalReporter) -> Figures:
    total = Figures()
    for reports in reporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue
            for name, values in getattr(report, "user_properties", ()):
                if name == PROPERTY:
                    for field, value in values.items():
                        setattr(total, field, getattr(total, field) + value)
    return total


def _execution_kills(reporter: pytest.TerminalReporter) -> tuple[int, int]:
    """(SIGKILLs, orders checked) of the execution test, from the line it prints, when it passed in this run."""
    for report in reporter.stats.get("passed", []):
        if getattr(report, "nodeid", "") == EXECUTION_KILLS and report.when == "call":
            for _, text in report.sections:
                if (kills := _KILLS_PRINTED.search(text)) and (orders := _ORDERS_PRINTED.search(text)):
                    return len(kills.group(1).split(",")), int(orders.group(1))
    return 0, 0


def print_figures(terminalreporter: pytest.TerminalReporter) -> None:
    figures = _collected(terminalreporter)
    if figures.tests == 0:
        return
    execution_kills, execution_orders = _execution_kills(terminalreporter)
    counted = f" (incl. {execution_kills} in {EXECUTION_KILLS.split('::')[0]})" if execution_kills else ""
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    write(f"requests fuzzed:   {figures.requests_fuzzed} (5xx: {figures.server_errors})")
    write(f"crashes injected:  {figures.crashes_injected + execution_kills} SIGKILLs{counted}")
    write(f"outages survived:  {figures.outages_survived}")
    write(
        f"checked after:     {figures.accepted_checked} accepted signals, {figures.deliveries_checked} cards and alerts, "
        f"{figures.orders_checked + execution_orders} orders"
    )
    write(f"lost = {figures.lost}, duplicated = {figures.duplicated}")
