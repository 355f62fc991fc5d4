"""The composition root: configuration in, a running desk out. The only place that knows every part."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.charting import open_charts
from bot.config import Settings
from bot.feeds.replay_runner import csv_replay
from bot.forwarding import Forwarder, forward_targets, open_forwarding, urls_for
from bot.http.app import create_http_app
from bot.http.deps import HttpDeps
from bot.http.metrics import IngestMetrics, QuoteCounts
from bot.instance import crashed_here, instance_name
from bot.jobs.heartbeat import Heartbeat, HeartbeatMetrics
from bot.jobs.execution import ExecutionDriver
from bot.jobs.leader import Loop, leading
from bot.jobs.scheduler import add_approval_expiry, add_execution, build_scheduler
from bot.log_notifier import LogTraderNotifier
from bot.logs import log_filters
from bot.ops_log import LogOpsAlerts
from bot.recent_errors import RecentErrors, keeping_recent_errors
from bot.telegram.chart_messages import ChartSetup
from bot.telegram.runtime import TelegramDesk, build_telegram, mount_webhook, running
from bot.trading import TradingDesk, open_trading, quote_intake
from bot.watchdog import watch_health
from core.alert_gate import AlertGate, AlertPolicy
from core.auth_watch import AuthFailureWatch, AuthWatchPolicy
from core.clock import Clock, SystemClock
from core.execution import ExecutionService, ExecutionSettings
from core.execution_check import ExecutionPolicy
from core.drawdown import DrawdownGuard, DrawdownMeter, DrawdownPolicy
from core.forward_policy import ForwardEvent
from core.health_watch import HEARTBEAT, HealthWatch, WatchPolicy
from core.ingest import IngestPolicy, SignalIngestService
from core.leadership import Leadership
from core.instruments import BUILTIN_INSTRUMENTS, InstrumentSpec, InstrumentTable
from core.notify import OpsAlerts, TraderNotifier
from core.order_rules import OrderRules
from core.producer_auth import Producer, ProducerAuthenticator
from core.quote_intake import QuoteIntake
from core.rate_limit import ProducerRateLimiter
from core.shared_alerts import AlertsOnceAcrossInstances
from core.signals import Signal
from core.tradingview import AlertAuthenticator, AlertTranslator, ClientAddressPolicy, TickerMap, TradingViewIntake
from storage import migrate
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.database import create_engine
from storage.desk_queries import SqlDeskQueries
from storage.execution_queue import SqlExecutionQueue
from storage.heartbeat_store import SqlHeartbeats
from storage.job_lease import SqlJobLeases
from storage.risk_store import SqlRiskStore
from storage.signal_store import SqlSignalStore

log = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):
    pass


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: AsyncEngine
    store: SqlSignalStore
    http_app: web.Application
    registry: CollectorRegistry
    queries: SqlDeskQueries
    trading: TradingDesk
    telegram: TelegramDesk | None  # None when no bot token is configured: the API runs alone
    ops_alerts: OpsAlerts  # to the ops chat, or only logged when Telegram is off
    quotes: QuoteIntake  # every pushed or replayed quote goes through it
    drawdown: DrawdownGuard
    heartbeat: Heartbeat  # run by the scheduler every scheduler.heartbeat_seconds
    forwarder: Forwarder | None = None  # delivers the [[forward]] queue; None without targets


@asynccontextmanager
async def open_desk(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Desk]:
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:  # closes in reverse: jobs, Telegram, writers, engine
        engine = create_engine(settings.database.url)
        stack.push_async_callback(engine.dispose)
        await _prepare_schema(engine, settings.database.auto_migrate)
        store = SqlSignalStore(engine, forward_targets=urls_for(forward_targets(settings.forward), ForwardEvent.ACCEPTED))
        store.start()
        stack.push_async_callback(store.close)
        runner = batch_runner_for(engine)
        stack.push_async_callback(runner.close)
        queries = SqlDeskQueries(engine)
        registry = CollectorRegistry()
        charts = await stack.enter_async_context(open_charts(settings, registry))  # closed after Telegram stops
        trading = await stack.enter_async_context(open_trading(settings, runner, clock, instrument_table(settings)))
        alert_gate = AlertGate(AlertPolicy(settings.alerts.window_seconds, settings.alerts.max_per_window), clock)
        recent_errors = stack.enter_context(keeping_recent_errors(filters=log_filters(settings)))
        drawdown = _drawdown_meter(settings, runner, trading)
        telegram = _telegram(settings, runner, queries, trading, clock, alert_gate, recent_errors, charts, drawdown)
        leases = SqlJobLeases(runner)
        leadership = Leadership(
            leases, clock, instance_name(), timedelta(seconds=settings.scheduler.job_lease_seconds), holder_is_dead=crashed_here
        )
        ops_alerts: OpsAlerts = AlertsOnceAcrossInstances(
            telegram.ops_alerts if telegram else LogOpsAlerts(alert_gate), leases, instance_name(),
            timedelta(seconds=settings.alerts.window_seconds), clock, settings.alerts.probe_timeout_seconds,
        )
        notifier: TraderNotifier = telegram.notifier if telegram else LogTraderNotifier()
        guard = DrawdownGuard(drawdown, clock, notifier, ops_alerts)
        if telegram is not None:
            telegram.dispatcher["drawdown_guard"] = guard  # /drawdown reset: the guard tells people through Telegram
        execution = ExecutionDriver(_execution_service(settings, runner, trading, guard, notifier, ops_alerts, clock))
        stack.push_async_callback(execution.close)  # after the scheduler stops: no new drain starts
        if telegram is not None:
            telegram.dispatcher["execution"] = execution  # an approval starts execution at once
        quotes = quote_intake(settings, trading, clock, notifier, ops_alerts)
        registry.register(QuoteCounts(quotes))
        forwarder = await stack.enter_async_context(open_forwarding(forward_targets(settings.forward), runner, clock, ops_alerts, instance_name()))
        on_created = _wake_on_created(telegram, forwarder)
        http_app = create_http_app(_http_deps(settings, store, clock, registry, on_created, ops_alerts, quotes))
        if telegram is not None:
            if settings.telegram.mode == "webhook":
                mount_webhook(telegram, http_app)
            await stack.enter_async_context(running(telegram))
        else:
            log.warning("event=telegram_disabled reason=telegram.token is empty")
        heartbeat = Heartbeat(guard, trading.broker, trading.accounts, SqlHeartbeats(runner), HeartbeatMetrics(registry), clock, instance_name())
        scheduler = build_scheduler(heartbeat, settings.scheduler.heartbeat_seconds, leadership)
        add_execution(scheduler, execution, settings.scheduler.execution_interval_seconds)
        if telegram is not None:
            add_approval_expiry(scheduler, telegram.approvals, telegram.sender, leadership)
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        await stack.enter_async_context(leading(leadership, _leader_loops(settings, queries, clock, ops_alerts, telegram)))
        if settings.feed.csv:  # stops first on the way out: no quote meets a closed database
            await stack.enter_async_context(csv_replay(settings.feed, instrument_table(settings), quotes, trading.prices, clock))
        yield Desk(settings, engine, store, http_app, registry, queries, trading, telegram, ops_alerts, quotes, guard, heartbeat,
                   forwarder=forwarder)


def _wake_on_created(telegram: TelegramDesk | None, forwarder: Forwarder | None) -> Callable[[Signal], None]:
    """What a new signal wakes at once: the card fan-out and the forwarder."""
    wakes = [part.wake for part in (telegram.fanout if telegram else None, forwarder) if part is not None]

    def on_created(_signal: Signal) -> None:
        for wake in wakes:
            wake()

    return on_created


def _execution_service(
    settings: Settings, runner: BatchRunner, trading: TradingDesk, guard: DrawdownGuard, notifier: TraderNotifier,
    ops_alerts: OpsAlerts, clock: Clock,
) -> ExecutionService:
    scheduler = settings.scheduler
    execution_settings = ExecutionSettings(
        rules=order_rules(settings),
        policy=ExecutionPolicy(max_slippage_points=settings.orders.max_slippage_points),
        risk_percent=settings.risk.risk_per_trade_percent,
        batch=scheduler.execution_batch,
        lease=timedelta(seconds=scheduler.execution_lease_seconds),
        max_attempts=scheduler.execution_max_attempts,
        account_currency=settings.broker.currency,
    )
    return ExecutionService(
        SqlExecutionQueue(runner, urls_for(forward_targets(settings.forward), ForwardEvent.EXECUTED)), trading.broker,
        trading.prices, instrument_table(settings), guard, trading.accounts, notifier, ops_alerts, clock, execution_settings, worker=instance_name(),
    )


def _leader_loops(
    settings: Settings, queries: SqlDeskQueries, clock: Clock, ops_alerts: OpsAlerts, telegram: TelegramDesk | None
) -> dict[str, Loop]:
    """What runs on the job lease's holder only, started afresh on each take-over."""
    period = settings.scheduler.heartbeat_seconds
    loops: dict[str, Loop] = {"watchdog": lambda: watch_health(_health_watch(settings, queries, clock, ops_alerts), period)}
    if telegram is not None:
        loops["outbox-sender"] = telegram.sender.run
    return loops


def _health_watch(settings: Settings, queries: SqlDeskQueries, clock: Clock, ops_alerts: OpsAlerts) -> HealthWatch:
    policy = WatchPolicy(timedelta(seconds=settings.scheduler.heartbeat_seconds), settings.alerts.probe_timeout_seconds)
    return HealthWatch(lambda: queries.last_beat(HEARTBEAT), policy, clock, ops_alerts)


def _telegram(
    settings: Settings, runner: BatchRunner, queries: SqlDeskQueries, trading: TradingDesk, clock: Clock, alert_gate: AlertGate,
    recent_errors: RecentErrors, charts: ChartSetup, drawdown: DrawdownMeter,
) -> TelegramDesk | None:
    if not settings.telegram.token.get_secret_value():
        return None
    return build_telegram(
        settings.telegram, runner=runner, queries=queries, trading=trading, clock=clock, instruments=instrument_table(settings),
        approval_ttl=timedelta(minutes=settings.signals.approval_ttl_minutes), alert_gate=alert_gate,
        recent_errors=recent_errors, charts=charts, drawdown=drawdown,
    )


def _drawdown_meter(settings: Settings, runner: BatchRunner, trading: TradingDesk) -> DrawdownMeter:
    # A paper account starts at the configured balance, so losses made before the first check still count;
    # a live account's first peak is the first equity seen.
    start = settings.broker.starting_balance if trading.paper is not None else None
    policy = DrawdownPolicy(settings.risk.max_drawdown_percent / 100, settings.risk.resume_on_recovery, start)
    return DrawdownMeter(SqlRiskStore(runner), trading.broker, trading.accounts, policy)


@asynccontextmanager
async def serve_http(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields the base URL (port 0 picks a free port)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()


def order_rules(settings: Settings) -> OrderRules:
    return OrderRules(
        min_stop_distance_points=settings.orders.min_stop_distance_points,
        min_reward_risk=settings.orders.min_reward_risk,
        expiry_hours=settings.orders.expiry_hours,
    )


def instrument_table(settings: Settings) -> InstrumentTable:
    overrides = {
        name: InstrumentSpec(name, spec.point, spec.contract_size, spec.volume_step, spec.min_volume, spec.quote_currency)
        for name, spec in settings.instruments.items()
    }
    return InstrumentTable(overrides, settings.orders.default_point)


def tradingview_intake(settings: Settings) -> TradingViewIntake:
    tv = settings.tradingview
    tokens = {p.id: tuple(p.tradingview_token_sha256) for p in settings.producers if p.tradingview_token_sha256}
    known = set(BUILTIN_INSTRUMENTS) | set(settings.instruments)
    return TradingViewIntake(
        addresses=ClientAddressPolicy(tv.allowed_ips, tv.trusted_proxies),
        authenticator=AlertAuthenticator(tokens, timedelta(seconds=tv.max_alert_age_seconds)),
        translator=AlertTranslator(TickerMap(tv.tickers, tv.strip_suffixes, known), instrument_table(settings)),
    )


def _http_deps(
    settings: Settings, store: SqlSignalStore, clock: Clock, registry: CollectorRegistry, on_created: Callable[[Signal], None],
    ops_alerts: OpsAlerts, quotes: QuoteIntake,
) -> HttpDeps:
    sig = settings.signals
    producers = {
        p.id: Producer(p.id, tuple(s.get_secret_value() for s in p.secrets)) for p in settings.producers
    }
    rules = order_rules(settings)
    policy = IngestPolicy(
        max_future_skew=timedelta(seconds=sig.max_clock_skew_seconds),
        dedup_window=timedelta(seconds=sig.dedup_window_seconds),
    )
    return HttpDeps(
        ingest=SignalIngestService(store, clock, instrument_table(settings), rules, policy, on_created),
        store=store,
        authenticator=ProducerAuthenticator(producers, clock, timedelta(seconds=sig.max_clock_skew_seconds)),
        rate_limiter=ProducerRateLimiter(sig.rate_per_second, sig.rate_burst, clock),
        clock=clock,
        registry=registry,
        metrics=IngestMetrics(registry),
        max_body_bytes=sig.max_body_bytes,
        tradingview=tradingview_intake(settings),
        quotes=quotes,
        max_quotes_per_request=settings.quotes.max_per_request,
        auth_failures=AuthFailureWatch(
            producers, AuthWatchPolicy(settings.alerts.auth_failures, settings.alerts.auth_failure_window_seconds), clock, ops_alerts
        ),
    )


async def _prepare_schema(engine: AsyncEngine, auto_migrate: bool) -> None:
    if auto_migrate:
        await migrate.upgrade(engine)
        return
    current, head = await migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none'}, this version needs {head}; "
            "run `signaldesk db upgrade` (or set database.auto_migrate = true)"
        )
