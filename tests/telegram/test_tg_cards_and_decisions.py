"""Signal cards and Approve/Reject, against the emulator over real HTTP, on both databases."""

from __future__ import annotations

from bot.emulator import BotApiEmulator
from tests.conftest import Api
from tests.telegram.conftest import ADMIN, STRANGER, TRADERS, VIEWER, card_for, current, post_signal


async def _status(desk: Api, signal_id: str) -> str:
    _, _, body = await desk.request("GET", f"/api/v1/signals/{signal_id}")
    return body["status"]


async def test_a_signed_post_puts_a_card_in_every_traders_chat(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk, external_id="card-1")
    for trader in TRADERS:
        card = await card_for(emulator, trader, signal)
        assert "XAUUSD · BUY" in card.text
        for fragment in ("Entry   2400.50", "Stop    2390.00", "Target  2420.00", "R:R     1.86", "alpha"):
            assert fragment in card.text, card.text
        assert [b.text for row in card.buttons for b in row] == ["Approve", "Reject"]
    viewer_card = await card_for(emulator, VIEWER, signal)
    assert viewer_card.buttons == () and "Status: new" in viewer_card.text
    assert not any(signal["id"][-8:] in (m.text or "") for m in emulator.messages(ADMIN))


async def test_approve_and_reject_change_status_and_edit_the_card(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    first, second = [await card_for(emulator, t, signal) for t in TRADERS]

    answer = await emulator.wait_for_answer(emulator.press(TRADERS[0], first.message_id, button="Approve"))
    assert answer.text.startswith("Approved")
    edited = await emulator.wait_for_messages(TRADERS[0], lambda ms: "Approved" in (current(emulator, first).text or ""))
    assert current(emulator, first).buttons == () and current(emulator, first).edits == 1
    assert edited
    assert await _status(desk, signal["id"]) == "approved"

    answer = await emulator.wait_for_answer(emulator.press(TRADERS[1], second.message_id, button="Reject"))
    assert answer.text == "Rejected."
    await emulator.wait_until(lambda: "Rejected by you" in (current(emulator, second).text or ""))
    assert await _status(desk, signal["id"]) == "approved"  # one trader's approval stands


async def test_every_trader_rejecting_rejects_the_signal(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    for trader in TRADERS:
        card = await card_for(emulator, trader, signal)
        await emulator.wait_for_answer(emulator.press(trader, card.message_id, button="Reject"))
    assert await _status(desk, signal["id"]) == "rejected"


async def test_double_press_and_stranger_press_change_nothing(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    card = await card_for(emulator, TRADERS[0], signal)
    approve = card.button("Approve").callback_data

    stranger = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Reject", user_id=STRANGER))
    assert stranger.text.startswith("Not authorized") and stranger.show_alert
    assert await _status(desk, signal["id"]) == "new"
    assert current(emulator, card).edits == 0

    await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
    await emulator.wait_until(lambda: current(emulator, card).edits == 1)
    again = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, data=approve, require_button=False))
    assert again.text == "Already decided: approve."
    rejecting = emulator.press(TRADERS[0], card.message_id, data=approve.replace("approve", "reject"), require_button=False)
    assert (await emulator.wait_for_answer(rejecting)).text == "Already decided: approve."
    assert await _status(desk, signal["id"]) == "approved"
    assert current(emulator, card).edits == 1


async def test_a_viewer_pressing_a_traders_card_is_not_authorized(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    card = await card_for(emulator, TRADERS[0], signal)
    answer = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve", user_id=VIEWER))
    assert answer.text.startswith("Not authorized")
    assert await _status(desk, signal["id"]) == "new"


async def test_unknown_callback_data_is_answered(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    card = await card_for(emulator, TRADERS[0], signal)
    answer = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, data="garbage:1", require_button=False))
    assert answer.text == "This button is no longer valid."
    forged = "sd:approve:01a20c06-0000-7000-8000-000000000000"
    answer = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, data=forged, require_button=False))
    assert answer.text == "Unknown signal."


async def test_undecided_cards_expire_after_the_ttl(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    decided = await card_for(emulator, TRADERS[0], signal)
    undecided = await card_for(emulator, TRADERS[1], signal)
    await emulator.wait_for_answer(emulator.press(TRADERS[0], decided.message_id, button="Reject"))
    await emulator.wait_until(lambda: current(emulator, decided).edits == 1)

    desk.clock.advance(61 * 60)
    assert desk.desk.telegram is not None
    assert await desk.desk.telegram.approvals.expire_due() == [signal["id"]]
    desk.desk.telegram.sender.wake()
    await emulator.wait_until(lambda: "Expired: no decision within 60 min" in (current(emulator, undecided).text or ""))
    assert current(emulator, undecided).buttons == ()
    assert "Rejected by you" in current(emulator, decided).text
    assert await _status(desk, signal["id"]) == "expired"

    late = await emulator.wait_for_answer(
        emulator.press(TRADERS[1], undecided.message_id, data=f"sd:approve:{signal['id']}", require_button=False)
    )
    assert "can no longer be decided" in late.text
