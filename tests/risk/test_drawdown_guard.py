"""The drawdown guard over in-memory ports: what it closes, blocks and says, and when it lets orders again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.accounts import AccountMap
from core.drawdown import DrawdownGuard, DrawdownMeter, DrawdownPolicy, ResetRefused, UnknownAccount
from core.errors import BrokerUnavailable
from core.notify import Severity
from core.trades import CloseReason
from tests.risk.risk_fakes import FakeBroker, MemoryRiskStore, Told, position
from tests.support import FakeClock

D = Decimal
ACCOUNT, OTHER = "tg-111", "tg-222"
ACCOUNTS = AccountMap(frozenset({111, 222}))


def guard(
    broker: FakeBroker, told: Told, *, resume: bool = True, start: str | None = "10000", store: MemoryRiskStore | None = None
) -> DrawdownGuard:
    policy = DrawdownPolicy(cap=D("0.2"), resume_on_recovery=resume, starting_equity=None if start is None else D(start))
    return DrawdownGuard(DrawdownMeter(store or MemoryRiskStore(), broker, ACCOUNTS, policy), FakeClock(), told, told)


async def test_a_breach_closes_every_position_blocks_and_tells_the_trader_and_ops() -> None:
    broker, told = FakeBroker({ACCOUNT: D(10000), OTHER: D(10000)}), Told()
    broker.hold(position("p1"), position("p2", instrument="EURUSD"), position("q1", account_id=OTHER))
    g = guard(broker, told)
    await g.check(ACCOUNT)
    broker.equity[ACCOUNT] = D("7999.99")

    risk = await g.check(ACCOUNT)

    assert risk.blocked and await g.is_blocked(ACCOUNT) and not await g.is_blocked(OTHER)
    assert [(p.id, p.close_reason) for p in broker.closed] == [("p1", CloseReason.DRAWDOWN), ("p2", CloseReason.DRAWDOWN)]
    assert await broker.positions(OTHER) != []  # another account's positions are not its business
    [note] = told.notes
    assert note.breached and note.account_id == ACCOUNT and note.cap == D("0.2") and note.drawdown == D("0.200001")
    assert [p.id for p in note.closed] == ["p1", "p2"]
    [alert] = told.alerts
    assert (alert.kind, alert.severity, alert.subject) == ("drawdown_breach", Severity.CRITICAL, "account tg-111")
    assert alert.action == "closed 2 positions, blocked new orders"
    assert alert.what == "drawdown 20.00 % past the cap of 20.00 % (equity 7999.99, peak 10000.00)"


@pytest.mark.parametrize(("equity", "blocked"), [("8000", False), ("8000.01", False), ("7999.99", True), ("0", True), ("-50", True)])
async def test_the_cap_is_crossed_only_past_it(equity: str, blocked: bool) -> None:
    broker, told = FakeBroker({ACCOUNT: D(equity)}), Told()
    assert (await guard(broker, told).check(ACCOUNT)).blocked is blocked
    assert len(told.alerts) == int(blocked)


async def test_drawdown_is_measured_from_the_highest_equity_seen() -> None:
    broker, told = FakeBroker({ACCOUNT: D(12000)}), Told()
    g = guard(broker, told)
    await g.check(ACCOUNT)
    broker.equity[ACCOUNT] = D(10000)  # 16.7 % below 12000: within the cap
    risk = await g.check(ACCOUNT)
    assert (risk.peak, risk.blocked) == (D(12000), False)
    broker.equity[ACCOUNT] = D(9500)  # 20.8 % below 12000, though only 5 % below the start
    assert (await g.check(ACCOUNT)).blocked


@pytest.mark.parametrize(("start", "blocked"), [("10000", True), (None, False)])
async def test_the_first_peak_is_the_starting_equity_when_there_is_one(start: str | None, blocked: bool) -> None:
    """Losses made before the guard first looked still count against the starting balance."""
    broker, told = FakeBroker({ACCOUNT: D(7900)}), Told()
    risk = await guard(broker, told, start=start).check(ACCOUNT)
    assert (risk.peak, risk.blocked) == (D(10000) if start else D(7900), blocked)


async def test_a_breach_cancels_pending_orders_before_closing_positions() -> None:
    """A limit order left waiting would open a new position on the blocked account when its price came."""
    broker, told = FakeBroker({ACCOUNT: D(7000), OTHER: D(10000)}), Told()
    broker.hold(position("p1"))
    broker.pending = {ACCOUNT: ["o1", "o2"], OTHER: ["o3"]}

    await guard(broker, told).check(ACCOUNT)

    assert broker.log == ["cancel o1", "cancel o2", "close p1"]
    assert broker.pending == {ACCOUNT: [], OTHER: ["o3"]}
    assert told.notes[0].cancelled == 2 and [p.id for p in told.notes[0].closed] == ["p1"]
    assert told.alerts[0].action == "cancelled 2 pending orders, closed 1 position, blocked new orders"


async def test_pending_orders_that_cannot_be_cancelled_are_reported_and_retried() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    broker.pending = {ACCOUNT: ["o1", "o2", "filled"]}
    broker.failing.add("o1")
    broker.gone.add("filled")  # filled meanwhile: not a failure
    g = guard(broker, told, resume=False)

    await g.check(ACCOUNT)

    assert broker.log == ["cancel o2"]
    assert told.kinds() == ["drawdown_breach", "drawdown_close_failed"]
    assert told.alerts[0].action == "cancelled 1 pending order, closed 0 positions, blocked new orders"
    assert told.alerts[1].what == "could not close on a blocked account: pending order o1: BrokerUnavailable: no answer cancelling o1"

    broker.failing.clear()
    broker.pending[ACCOUNT].append("late")  # placed just before the block took effect
    await g.check(ACCOUNT)

    assert broker.log == ["cancel o2", "cancel o1", "cancel late"]
    assert told.kinds()[-1] == "drawdown_positions_closed"
    assert told.alerts[-1].what == "2 pending orders and 0 positions were still open on a blocked account"
    assert told.notes[-1].cancelled == 2


async def test_positions_are_still_closed_when_pending_orders_cannot_be_listed() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    broker.hold(position("p1"))
    broker.unlisted.add(ACCOUNT)

    await guard(broker, told).check(ACCOUNT)

    assert broker.log == ["close p1"]
    assert told.kinds() == ["drawdown_breach", "drawdown_close_failed"]
    assert "listing the pending orders failed: BrokerUnavailable" in told.alerts[1].what


async def test_a_failed_close_is_reported_the_rest_still_close_and_the_next_check_retries() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    broker.hold(position("p1"), position("p2"), position("p3"))
    broker.failing.add("p2")
    g = guard(broker, told)

    await g.check(ACCOUNT)

    assert [p.id for p in broker.closed] == ["p1", "p3"]
    assert told.kinds() == ["drawdown_breach", "drawdown_close_failed"]
    assert told.alerts[0].action == "closed 2 positions, blocked new orders"
    assert "position p2 (XAUUSD): BrokerUnavailable: no answer closing p2" in told.alerts[1].what

    broker.failing.clear()
    await g.check(ACCOUNT)

    assert [p.id for p in broker.closed] == ["p1", "p3", "p2"] and await g.is_blocked(ACCOUNT)
    assert [p.id for p in told.notes[-1].closed] == ["p2"] and told.notes[-1].breached
    assert told.kinds()[-1] == "drawdown_positions_closed"


async def test_a_position_closed_meanwhile_is_no_failure() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    broker.hold(position("p1"), position("p2"))
    broker.gone.add("p1")
    await guard(broker, told).check(ACCOUNT)
    assert [p.id for p in told.notes[0].closed] == ["p2"] and told.kinds() == ["drawdown_breach"]


async def test_a_blocked_account_with_nothing_open_hears_nothing_more() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    g = guard(broker, told, resume=False)
    for _ in range(3):
        await g.check(ACCOUNT)
    assert len(told.notes) == 1 and told.kinds() == ["drawdown_breach"]


async def test_a_position_opened_on_a_blocked_account_is_closed_at_the_next_check() -> None:
    """An order can fill between the listing and its cancel; a blocked account holds no positions."""
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    g = guard(broker, told, resume=False)
    await g.check(ACCOUNT)
    broker.hold(position("late"))
    await g.check(ACCOUNT)
    assert [p.id for p in broker.closed] == ["late"] and told.kinds() == ["drawdown_breach", "drawdown_positions_closed"]


async def test_recovery_within_the_cap_allows_orders_again_when_configured() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    g = guard(broker, told)
    await g.check(ACCOUNT)
    broker.equity[ACCOUNT] = D(7999)  # still past the cap: the peak stays at 10000
    assert (await g.check(ACCOUNT)).blocked
    broker.equity[ACCOUNT] = D(8000)

    risk = await g.check(ACCOUNT)

    assert not risk.blocked and not await g.is_blocked(ACCOUNT) and risk.peak == D(10000)
    assert not told.notes[-1].breached and told.notes[-1].drawdown == D("0.2")
    assert told.alerts[-1].kind == "drawdown_recovered" and told.alerts[-1].severity is Severity.INFO


async def test_without_resume_on_recovery_only_a_reset_allows_orders_again() -> None:
    broker, told = FakeBroker({ACCOUNT: D(7000)}), Told()
    g = guard(broker, told, resume=False)
    await g.check(ACCOUNT)
    broker.equity[ACCOUNT] = D(9000)
    assert (await g.check(ACCOUNT)).blocked

    risk = await g.reset(ACCOUNT)

    assert (risk.blocked, risk.peak, risk.drawdown) == (False, D(9000), D(0)) and not await g.is_blocked(ACCOUNT)
    assert told.alerts[-1].kind == "drawdown_reset" and not told.notes[-1].breached
    broker.equity[ACCOUNT] = D(7500)  # 16.7 % below the new peak of 9000
    assert not (await g.check(ACCOUNT)).blocked


async def test_resetting_an_account_that_is_not_blocked_sets_the_peak_and_tells_nobody() -> None:
    broker, told = FakeBroker({ACCOUNT: D(12000)}), Told()
    g = guard(broker, told)
    await g.check(ACCOUNT)
    broker.equity[ACCOUNT] = D(11000)
    assert (await g.reset(ACCOUNT)).peak == D(11000)
    assert (await g.check(ACCOUNT)).peak == D(11000) and told.notes == [] and told.alerts == []


async def test_reset_refuses_unknown_accounts_and_equity_it_cannot_measure_from() -> None:
    broker, told = FakeBroker({ACCOUNT: D(0)}), Told()
    g = guard(broker, told)
    with pytest.raises(UnknownAccount, match="no account 'tg-999'; accounts: tg-111, tg-222"):
        await g.reset("tg-999")
    with pytest.raises(ResetRefused, match="equity 0"):
        await g.reset(ACCOUNT)


@pytest.mark.parametrize(("target", "account"), [("tg-222", "tg-222"), ("111", "tg-111")])
def test_an_admin_names_an_account_by_its_id_or_its_trader(target: str, account: str) -> None:
    assert guard(FakeBroker(), Told()).meter.account_named(target) == account


@pytest.mark.parametrize("target", ["333", "tg-333", "", "-111", "everyone"])
def test_a_name_that_is_no_account_is_refused_with_the_list(target: str) -> None:
    with pytest.raises(UnknownAccount, match="accounts: tg-111, tg-222"):
        guard(FakeBroker(), Told()).meter.account_named(target)


async def test_status_measures_every_account_without_changing_anything() -> None:
    store = MemoryRiskStore()
    broker, told = FakeBroker({ACCOUNT: D(15000), OTHER: D(7000)}), Told()
    broker.unreachable.add(OTHER)
    g = guard(broker, told, store=store)

    first, second = await g.meter.status()

    assert (first.account_id, first.equity, first.peak, first.drawdown, first.cap, first.blocked) == (
        ACCOUNT, D(15000), D(15000), D(0), D("0.2"), False,
    )
    assert (second.account_id, second.equity, second.error) == (OTHER, None, "BrokerUnavailable: terminal not connected")
    assert store.states == {} and told.alerts == []


async def test_a_failing_broker_fails_the_check_and_changes_nothing() -> None:
    broker, told = FakeBroker({}), Told()
    broker.unreachable.add(ACCOUNT)
    g = guard(broker, told)
    with pytest.raises(BrokerUnavailable, match="terminal not connected"):
        await g.check(ACCOUNT)
    assert not await g.is_blocked(ACCOUNT) and told.alerts == []
