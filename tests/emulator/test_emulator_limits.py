"""Telegram's flood limits: 429 with an integer retry_after, counted and logged for asserts."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.emulator import BotApiEmulator, RateLimits
from bot.emulator.errors import BotApiError
from bot.emulator.limits import EmulatedClock, SendLimiter
from tests.emulator.helpers import TRADER


class ManualTime:
    """A real-time source the test moves by hand (in binary fractions, so sums are exact)."""

    def __init__(self) -> None:
        self.now = 64.0

    def __call__(self) -> float:
        return self.now


def limiter(limits: RateLimits, time: ManualTime) -> SendLimiter:
    return SendLimiter(limits, EmulatedClock(limits.speedup, source=time))


def refused_retry_after(limiter: SendLimiter, chat_id: int) -> int | None:
    with pytest.raises(BotApiError) as refusal:
        limiter.admit(chat_id, "sendMessage")
    assert refusal.value.status == 429
    retry_after = refusal.value.retry_after
    assert refusal.value.description == f"Too Many Requests: retry after {retry_after}"
    return retry_after


def test_per_chat_limit_with_speedup_keeps_retry_after_in_emulated_seconds() -> None:
    time = ManualTime()
    limits = RateLimits(global_per_second=None, per_chat_per_second=1, speedup=4)
    chat_limiter = limiter(limits, time)

    chat_limiter.admit(TRADER, "sendMessage")
    time.now += 0.125  # half an emulated second

    assert refused_retry_after(chat_limiter, TRADER) == 1
    chat_limiter.admit(TRADER + 1, "sendMessage")  # another chat is not held back
    time.now += 0.125
    chat_limiter.admit(TRADER, "sendMessage")
    assert chat_limiter.stats.too_many_requests == 1
    assert [record.chat_id for record in chat_limiter.stats.sends] == [TRADER, TRADER + 1, TRADER]
    assert chat_limiter.stats.peak(1.0, chat_id=TRADER) == 1


def test_global_limit_admits_a_burst_of_its_rate_per_second() -> None:
    time = ManualTime()
    global_limiter = limiter(RateLimits(global_per_second=30, per_chat_per_second=None), time)

    for chat_id in range(30):
        global_limiter.admit(chat_id, "sendMessage")
    time.now += 0.375

    assert refused_retry_after(global_limiter, 99) == 1
    time.now += 0.625
    global_limiter.admit(99, "sendMessage")
    assert global_limiter.stats.peak(1.0) == 30
    assert global_limiter.stats.peak(1.125) == 31


def test_fractional_rate_spaces_sends_and_rounds_retry_after_up() -> None:
    time = ManualTime()
    slow = limiter(RateLimits(global_per_second=None, per_chat_per_second=0.25), time)

    slow.admit(TRADER, "sendMessage")
    time.now += 1.5

    assert refused_retry_after(slow, TRADER) == 3  # 2.5 s left, whole seconds as Telegram
    time.now += 2.5
    slow.admit(TRADER, "sendMessage")


async def test_bot_past_the_per_chat_limit_gets_retry_after(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    telegram.set_limits(RateLimits(global_per_second=30, per_chat_per_second=1))
    card = await bot.send_message(TRADER, "card")
    await bot.send_message(TRADER + 1, "another trader's card")

    with pytest.raises(TelegramRetryAfter) as refusal:
        await bot.send_message(TRADER, "too soon")
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("edits count too", chat_id=TRADER, message_id=card.message_id)

    assert refusal.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in refusal.value.message
    assert telegram.stats.too_many_requests == 2
    assert [r.method for r in telegram.stats.sends] == ["sendMessage", "sendMessage"]
    assert [m.text for m in telegram.messages(TRADER)] == ["card"]


async def test_limits_can_be_lifted_while_running(telegram: BotApiEmulator, bot: Bot) -> None:
    telegram.set_limits(RateLimits(per_chat_per_second=1))
    await bot.send_message(TRADER, "one")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(TRADER, "two")

    telegram.set_limits(RateLimits.unlimited())

    await bot.send_message(TRADER, "two")
    assert [m.text for m in telegram.messages(TRADER)] == ["one", "two"]
