"""The gate between alert sources and the ops chat: once per key and window, repeats counted, a global cap."""

from __future__ import annotations

from core.alert_gate import AlertGate, AlertPolicy
from core.notify import OpsAlert, Severity
from tests.support import FakeClock


def alert(kind: str = "database_down", subject: str = "") -> OpsAlert:
    return OpsAlert(kind, Severity.CRITICAL, "The database does not answer.", subject, "Retrying.")


def test_repeats_within_the_window_are_counted_and_reported_by_the_next_one_out() -> None:
    clock = FakeClock()
    gate = AlertGate(AlertPolicy(window_seconds=300, max_per_window=20), clock)
    first = gate.admit(alert())
    assert first is not None and first.suppressed == 0
    clock.advance(10)
    assert gate.admit(alert()) is None
    clock.advance(10)
    assert gate.admit(alert()) is None
    clock.advance(280)  # exactly one window after the first
    later = gate.admit(alert())
    assert later is not None and later.suppressed == 2
    clock.advance(1)
    assert gate.admit(alert()) is None


def test_different_subjects_are_different_alerts() -> None:
    gate = AlertGate(AlertPolicy(), FakeClock())
    assert gate.admit(alert("chat_blocked", "chat 1")) is not None
    assert gate.admit(alert("chat_blocked", "chat 2")) is not None
    assert gate.admit(alert("chat_blocked", "chat 1")) is None


def test_the_global_cap_holds_back_new_keys_and_counts_them() -> None:
    clock = FakeClock()
    gate = AlertGate(AlertPolicy(window_seconds=60, max_per_window=2), clock)
    assert gate.admit(alert(subject="a")) is not None
    last = gate.admit(alert(subject="b"))
    assert last is not None and last.cap_reached
    assert gate.admit(alert(subject="c")) is None
    assert gate.admit(alert(subject="c")) is None
    clock.advance(60)
    freed = gate.admit(alert(subject="c"))
    assert freed is not None and freed.suppressed == 2 and not freed.cap_reached
