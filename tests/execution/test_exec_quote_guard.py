"""QuoteGuard: quotes that must never be traded on are refused, with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.quotes import Quote, QuoteGuard, QuoteProblem
from tests.execution.exec_support import D, quote
from tests.support import START, FakeClock

P = QuoteProblem
FIRST = quote("2400.10", "2400.40", seconds=0)


def guard() -> QuoteGuard:
    clock = FakeClock(START + timedelta(seconds=10))
    return QuoteGuard(clock, max_jump_ratio=D(10), max_future_skew=timedelta(seconds=5))


# second quote after FIRST was accepted -> problem (None: accepted)
CASES = [
    ("next tick", quote("2400.20", "2400.50", 1), None),
    ("same time, new prices", quote("2400.20", "2400.50", 0), None),
    ("same prices, later", quote("2400.10", "2400.40", 1), None),
    ("zero spread", quote("2400.10", "2400.10", 1), None),
    ("older", quote("2400.20", "2400.50", -1), P.OUT_OF_ORDER),
    ("duplicate", quote("2400.10", "2400.40", 0), P.DUPLICATE),
    ("zero bid", quote("0", "2400.40", 1), P.NON_POSITIVE),
    ("negative ask", quote("2400.10", "-1", 1), P.NON_POSITIVE),
    ("crossed", quote("2400.50", "2400.40", 1), P.CROSSED),
    ("not a number", Quote("XAUUSD", Decimal("NaN"), D("2400.40"), START), P.NOT_FINITE),
    ("infinite", Quote("XAUUSD", D("2400.10"), Decimal("Infinity"), START), P.NOT_FINITE),
    ("naive time", Quote("XAUUSD", D("2400.10"), D("2400.40"), datetime(2026, 11, 23, 10, 0, 1)), P.NAIVE_TIME),
    ("beyond the clock's skew", quote("2400.20", "2400.50", 16), P.FUTURE),
    ("within the clock's skew", quote("2400.20", "2400.50", 15), None),
    ("10x up exactly", quote("24001.00", "24004.00", 1), None),
    ("more than 10x up", quote("24100.00", "24101.00", 1), P.JUMP),
    ("0.1x down exactly", quote("240.010", "240.040", 1), None),
    ("less than 0.1x", quote("240.00", "240.01", 1), P.JUMP),
    ("another instrument has its own reference", quote("1.1", "1.2", -5, instrument="EURUSD"), None),
]


@pytest.mark.parametrize(("name", "second", "problem"), CASES, ids=[c[0] for c in CASES])
def test_second_quote(name: str, second: Quote, problem: QuoteProblem | None) -> None:
    g = guard()
    assert g.check(FIRST).accepted
    verdict = g.check(second)
    assert verdict.problem is problem
    assert verdict.accepted is (problem is None)
    assert bool(verdict.detail) is (problem is not None)


def test_a_refused_quote_does_not_become_the_reference() -> None:
    g = guard()
    assert g.check(FIRST).accepted
    assert g.check(quote("99999", "99999", 2)).problem is P.JUMP
    assert g.check(quote("2400.20", "2400.50", 3)).accepted  # judged against FIRST, not the absurd one
    assert g.check(quote("2400.20", "2400.50", 9)).accepted
    assert g.check(quote("2400.20", "2400.50", 4)).problem is P.OUT_OF_ORDER


def test_times_in_other_zones_compare_as_instants() -> None:
    g = guard()
    assert g.check(FIRST).accepted
    plus_two = START.astimezone(timezone(timedelta(hours=2)))
    assert g.check(Quote("XAUUSD", FIRST.bid, FIRST.ask, plus_two)).problem is P.DUPLICATE


def test_the_first_quote_is_judged_on_its_own() -> None:
    assert guard().check(quote("0.0001", "0.0002", 0)).accepted
    assert guard().check(quote("2", "1", 0)).problem is P.CROSSED


def test_jump_ratio_must_allow_movement() -> None:
    with pytest.raises(ValueError):
        QuoteGuard(FakeClock(), max_jump_ratio=D(1), max_future_skew=timedelta(0))
