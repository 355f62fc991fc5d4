"""Assembling and running the Telegram side: bot, dispatcher, sender, card fan-out, polling or webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

import bot as bot_package
from bot.config import TelegramSettings
from bot.recent_errors import RecentErrors
from bot.status import DrawdownStatus, StatusReporter, StatusSources
from bot.telegram.chart_messages import ChartMessages, ChartSetup
from bot.telegram.commands import bot_commands
from bot.telegram.fanout import CardFanout
from bot.telegram.handlers import all_routers
from bot.telegram.log_context import UpdateLogContext
from bot.telegram.middlewares import RoleMiddleware
from bot.telegram.notifier import TelegramNotifier
from bot.telegram.outgoing import Outgoing
from bot.telegram.ops_alerts import TelegramOpsAlerts, blocked_alert, gave_up_alert
from bot.telegram.replies import Replies
from bot.telegram.sender import OutboxSender, SendLimits
from bot.trading import TradingDesk
from core.account_view import AccountView
from core.alert_gate import AlertGate
from core.approvals import ApprovalService
from core.clock import Clock
from core.instruments import InstrumentTable
from core.position_desk import PositionDesk
from core.roles import Roles
from storage.batch_runner import BatchRunner
from storage.card_fanout import SqlCardFanout
from storage.decision_store import SqlDecisionStore
from storage.desk_queries import SqlDeskQueries
from storage.outbox_store import OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class TelegramDesk:
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender
    fanout: CardFanout
    approvals: ApprovalService
    outbox: SqlOutbox
    replies: Replies
    settings: TelegramSettings
    ops_alerts: TelegramOpsAlerts
    notifier: TelegramNotifier  # tells traders about their orders: hand it to the execution and quote services


def make_bot(settings: TelegramSettings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base)) if settings.api_base else AiohttpSession()
    return Bot(settings.token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_telegram(
    settings: TelegramSettings,
    *,
    runner: BatchRunner,
    queries: SqlDeskQueries,
    trading: TradingDesk,
    clock: Clock,
    instruments: InstrumentTable,
    approval_ttl: timedelta,
    alert_gate: AlertGate,
    charts: ChartSetup,
    recent_errors: RecentErrors,
    drawdown: DrawdownStatus | None = None,
) -> TelegramDesk:
    roles = Roles.of(settings.traders, settings.admins, settings.viewers)
    bot = make_bot(settings)
    outbox = SqlOutbox(runner)
    chart_messages = ChartMessages(
        bot, outbox, charts, prices=trading.prices, trades=trading.trade_store, instruments=instruments
    )
    outgoing = Outgoing(bot, queries, instruments, approval_ttl, chart_messages)
    limits = SendLimits(settings.rate_global_per_second, settings.rate_chat_per_second)

    async def tell_ops_chat_blocked(chat_id: int, dropped: int) -> None:
        if chat_id != settings.ops_chat_id:  # the ops chat itself blocked: nowhere to tell
            await ops_alerts.alert(blocked_alert(chat_id, dropped))

    async def tell_ops_gave_up(item: OutboxItem, error: str) -> None:
        if item.chat_id != settings.ops_chat_id:  # an alert Telegram refuses would only be refused again
            await ops_alerts.alert(gave_up_alert(item, error))

    sender = OutboxSender(outgoing, outbox, clock, limits, on_blocked=tell_ops_chat_blocked, on_gave_up=tell_ops_gave_up)
    ops_alerts = TelegramOpsAlerts(alert_gate, outbox, sender.wake, bot, clock, settings.ops_chat_id)
    fanout = CardFanout(SqlCardFanout(runner), roles, clock, approval_ttl, sender)
    approvals = ApprovalService(SqlDecisionStore(runner), roles, clock, approval_ttl, settings.consent_version)
    replies = Replies(outbox, sender, clock, bot)
    notifier = TelegramNotifier(replies, trading.accounts)
    dispatcher = Dispatcher(
        approvals=approvals, queries=queries, outbox=outbox, replies=replies, sender=sender,
        broker=trading.broker, trade_store=trading.trade_store, accounts=trading.accounts, clock=clock,
        account_view=AccountView(trading.broker, trading.trade_store, trading.accounts),
        position_desk=PositionDesk(trading.broker, trading.trade_store, trading.accounts, notifier),
        status_reporter=StatusReporter(
            StatusSources(queries, outbox, trading.trade_store, trading.broker, trading.accounts, recent_errors, drawdown),
            clock, bot_package.__version__,
        ),
    )
    dispatcher.include_routers(*all_routers())
    role_check = RoleMiddleware(roles)
    dispatcher.update.outer_middleware(UpdateLogContext())  # request and signal ids on every line of an update
    dispatcher.message.middleware(role_check)
    dispatcher.callback_query.middleware(role_check)
    return TelegramDesk(bot, dispatcher, sender, fanout, approvals, outbox, replies, settings, ops_alerts, notifier)


def mount_webhook(desk: TelegramDesk, app: web.Application) -> None:
    """Serve Telegram's pushes on the desk's own aiohttp app, checking the secret token header."""
    secret = desk.settings.webhook_secret.get_secret_value() or None
    SimpleRequestHandler(dispatcher=desk.dispatcher, bot=desk.bot, secret_token=secret).register(app, path=webhook_path(desk.settings))


def webhook_path(settings: TelegramSettings) -> str:
    return urlparse(settings.webhook_url).path or DEFAULT_WEBHOOK_PATH


@asynccontextmanager
async def running(desk: TelegramDesk) -> AsyncIterator[None]:
    """Run the fan-out and (in polling mode) the update loop until the block ends. The sender is not
    started here: it runs on the instance that holds the job lease (bot/jobs/leader.py), as two senders
    would double the rate Telegram sees and take each other's in-flight messages for interrupted ones.
    The fan-out runs everywhere: its claim is a conditional UPDATE, so a signal's cards are queued once."""
    tasks = [_task(desk.fanout.run(), "card-fanout"), _task(_announce(desk), "telegram-setup")]
    if desk.settings.mode == "polling":
        tasks.append(_task(_poll(desk), "telegram-polling"))
    try:
        yield
    finally:
        if desk.settings.mode == "polling":
            with contextlib.suppress(RuntimeError):  # "polling is not started": it never got going
                await desk.dispatcher.stop_polling()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await desk.bot.session.close()


async def _poll(desk: TelegramDesk) -> None:
    await desk.dispatcher.start_polling(
        desk.bot, handle_signals=False, close_bot_session=False, allowed_updates=desk.dispatcher.resolve_used_update_types()
    )


async def _announce(desk: TelegramDesk) -> None:
    """Register commands and the update mode; keep trying while Telegram is unreachable. Every instance
    behind one load balancer sets the same webhook (URL, secret, update types), which Telegram takes as a
    no-op, so they do not fight; instances whose settings differ would, which is why deploy.md shares one config."""
    delay = 1.0
    while True:
        try:
            await desk.bot.set_my_commands(bot_commands())
            if desk.settings.mode == "webhook":
                await desk.bot.set_webhook(
                    desk.settings.webhook_url,
                    secret_token=desk.settings.webhook_secret.get_secret_value() or None,
                    allowed_updates=desk.dispatcher.resolve_used_update_types(),
                )
            else:
                await desk.bot.delete_webhook(drop_pending_updates=False)
            log.info("event=telegram_ready mode=%s", desk.settings.mode)
            return
        except (TelegramNetworkError, TelegramAPIError) as exc:
            log.warning("event=telegram_setup_retry in=%.0fs error=%s", delay, type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60)


def _task(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    return asyncio.create_task(coro, name=name)
