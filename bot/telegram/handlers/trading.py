"""Trading commands: a trader's own positions, balance, history and statistics, /close, and the admins'
/closeall behind a confirm button."""

from __future__ import annotations

import logging
from datetime import timedelta
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.exception import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.telegram.account_charts import PNL
from bot.telegram.keyboards import CloseAllCallback, close_all_keyboard
from bot.telegram.render_trading import (
    CLOSE_USAGE,
    HISTORY_USAGE,
    render_balance,
    render_close_all_prompt,
    render_close_all_report,
    render_close_result,
    render_history,
    render_positions,
    render_stats,
)
from bot.telegram.replies import Replies
from core.account_view import AccountView
from core.accounts import AccountMap
from core.clock import Clock
from core.errors import BrokerError
from core.position_desk import PositionDesk, parse_position_id

log = logging.getLogger(__name__)
HISTORY_DEFAULT = 10
HISTORY_MAX = 50
CONFIRM_WINDOW = timedelta(minutes=2)


def _user_id(message: Message) -> int:
    assert message.from_user is not None  # the role middleware let a trader through
    return message.from_user.id


async def positions(message: Message, account_view: AccountView, replies: Replies) -> None:
    await replies.send(message.chat.id, render_positions(await account_view.positions(_user_id(message))))


async def balance(message: Message, account_view: AccountView, replies: Replies) -> None:
    await replies.send(message.chat.id, render_balance(await account_view.balance(_user_id(message))))


async def history(message: Message, command: CommandObject, account_view: AccountView, replies: Replies) -> None:
    limit = _history_limit(command.args)
    if limit is None:
        await replies.send(message.chat.id, HISTORY_USAGE)
        return
    await replies.send(message.chat.id, render_history(await account_view.history(_user_id(message), limit)))


def _history_limit(args: str | None) -> int | None:
    if not args:
        return HISTORY_DEFAULT
    text = args.strip()
    if not text.isdecimal() or not 1 <= int(text) <= HISTORY_MAX:
        return None
    return int(text)


async def stats(message: Message, account_view: AccountView, accounts: AccountMap, replies: Replies) -> None:
    figures = await account_view.stats(_user_id(message))
    await replies.send(message.chat.id, render_stats(figures))
    if figures.trades:  # then the distribution of the closed trades' PnL, as a chart
        await replies.send_chart(message.chat.id, PNL, accounts.account_of(_user_id(message)))


async def close(message: Message, command: CommandObject, position_desk: PositionDesk, replies: Replies) -> None:
    digits = parse_position_id(command.args or "") if command.args and len(command.args.split()) == 1 else None
    if digits is None:
        await replies.send(message.chat.id, CLOSE_USAGE)
        return
    await replies.send(message.chat.id, render_close_result(await position_desk.close(_user_id(message), digits)))


async def close_all_prompt(message: Message, position_desk: PositionDesk, replies: Replies, clock: Clock) -> None:
    open_positions = await position_desk.open_positions()
    text = render_close_all_prompt(open_positions, int(CONFIRM_WINDOW.total_seconds() // 60))
    keyboard = close_all_keyboard(int(clock.now().timestamp())) if open_positions else None
    await replies.send(message.chat.id, text, keyboard)


async def close_all_pressed(
    callback: CallbackQuery, callback_data: CloseAllCallback, position_desk: PositionDesk, replies: Replies, clock: Clock
) -> None:
    if not callback_data.confirm:
        await callback.answer("Cancelled: nothing was closed.")
        await _settle(callback, "Close all: cancelled, nothing was closed.")
        return
    if clock.now().timestamp() - callback_data.issued > CONFIRM_WINDOW.total_seconds():
        await callback.answer("This prompt has expired: send /closeall again.", show_alert=True)
        await _settle(callback, "Close all: the prompt expired, nothing was closed.")
        return
    await callback.answer("Closing every open position…")
    await _settle(callback, f"Close all: confirmed by {escape(callback.from_user.full_name)}.")
    report = await position_desk.close_all()
    await replies.send(callback.from_user.id, render_close_all_report(report))


async def _settle(callback: CallbackQuery, text: str) -> None:
    """Replace the prompt and its buttons at once (not through the queue): the buttons must go before a
    second press can repeat the action."""
    if not isinstance(callback.message, Message):
        return  # too old to edit; the confirm window still protects it
    try:
        await callback.message.edit_text(text, reply_markup=None)
    except TelegramAPIError as exc:
        log.warning("event=close_all_prompt_not_edited error=%s", exc)


async def broker_failed_command(event: ErrorEvent, message: Message, replies: Replies) -> None:
    log.warning("event=command_broker_error command=%s error=%s", (message.text or "").split()[0][:40], event.exception)
    await replies.send(message.chat.id, f"The broker did not answer: {escape(str(event.exception))}. Nothing was changed; try again shortly.")


async def broker_failed_press(event: ErrorEvent, callback: CallbackQuery) -> None:
    log.warning("event=press_broker_error error=%s", event.exception)
    await callback.answer(f"The broker did not answer: {event.exception}", show_alert=True)


def build_router() -> Router:
    router = Router(name="trading")
    trader = {"role": "trader"}
    router.message.register(positions, Command("positions"), flags=trader)
    router.message.register(balance, Command("balance"), flags=trader)
    router.message.register(history, Command("history"), flags=trader)
    router.message.register(stats, Command("stats"), flags=trader)
    router.message.register(close, Command("close"), flags=trader)
    router.message.register(close_all_prompt, Command("closeall"), flags={"role": "admin"})
    router.callback_query.register(close_all_pressed, CloseAllCallback.filter(), flags={"role": "admin"})
    router.errors.register(broker_failed_command, ExceptionTypeFilter(BrokerError), F.update.message.as_("message"))
    router.errors.register(broker_failed_press, ExceptionTypeFilter(BrokerError), F.update.callback_query.as_("callback"))
    return router
