"""Everything the tour runs on, set up and taken down in one place: the Bot API emulator, the desk on a
temporary SQLite database with its producer API, and the producers' clients, all on the demo's clock."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Desk, instrument_table, open_desk, serve_http
from bot.config import Settings
from bot.demo.clock import DemoClock
from bot.demo.cast import ALICE, BOB, FEED, OLGA, STRATEGY, TRADINGVIEW
from bot.demo.market import INSTRUMENT, Session, load_session
from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from bot.producer_client import ProducerClient
from core.tradingview import new_token, token_digest

# Tight limits, so that one session shows the guard at work: 2 % of equity at risk a trade, blocked past 3.5 %.
RISK_PER_TRADE_PERCENT, MAX_DRAWDOWN_PERCENT = 2, 3.5
HEARTBEAT_SECONDS = 300  # the tour beats itself, on its own clock; the timer is for a desk left running


@dataclass(frozen=True)
class Ports:
    api: int = 0  # 0: a free port
    emulator: int = 0


@dataclass(frozen=True)
class Stage:
    desk: Desk
    telegram: BotApiEmulator
    clock: DemoClock
    session: Session
    api_url: str
    strategy: ProducerClient  # signs signals as trend-bot
    feed: ProducerClient  # signs quotes as price-feed
    http: aiohttp.ClientSession  # for TradingView's unsigned alerts
    strategy_secret: str
    tradingview_token: str


@asynccontextmanager
async def staged(ports: Ports) -> AsyncIterator[Stage]:
    """Start everything; on the way out stop it all and delete the database."""
    session = load_session(instrument_table(DemoSettings()), datetime.now(UTC))
    clock = DemoClock(session.last_price().time)
    strategy_secret, feed_secret, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24), new_token()
    async with AsyncExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="signaldesk-demo-")))
        telegram = BotApiEmulator(EmulatorState(limits=RateLimits.unlimited()))
        await telegram.start(port=ports.emulator)
        stack.push_async_callback(telegram.stop)
        settings = demo_settings(folder / "demo.db", telegram, ports.api, strategy_secret, feed_secret, token)
        desk = await stack.enter_async_context(open_desk(settings, clock=clock))
        url = await stack.enter_async_context(serve_http(desk.http_app, "127.0.0.1", ports.api))
        await desk.trading.prices.load_bars(INSTRUMENT, session.history)
        strategy = await stack.enter_async_context(ProducerClient(url, STRATEGY, strategy_secret, clock=clock.now))
        feed = await stack.enter_async_context(ProducerClient(url, FEED, feed_secret, clock=clock.now))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield Stage(desk, telegram, clock, session, url, strategy, feed, http, strategy_secret, token)


class DemoSettings(Settings):
    """Only what the demo sets: neither ./config.toml nor SIGNALDESK_* variables change the tour."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any) -> tuple[Any, ...]:
        return (init_settings,)


def demo_settings(
    database: Path, telegram: BotApiEmulator, api_port: int, strategy_secret: str, feed_secret: str, token: str
) -> Settings:
    return DemoSettings(
        database={"url": f"sqlite+aiosqlite:///{database}"},
        http={"port": api_port},
        producers=[
            {"id": STRATEGY, "secrets": [strategy_secret]},
            {"id": FEED, "secrets": [feed_secret]},
            {"id": TRADINGVIEW, "tradingview_token_sha256": [token_digest(token)]},
        ],
        telegram={
            "token": telegram.token, "api_base": telegram.base_url,
            "traders": [ALICE.user_id, BOB.user_id], "admins": [OLGA.user_id], "ops_chat_id": OLGA.user_id,
            "rate_chat_per_second": 20, "rate_global_per_second": 200,
        },
        risk={"risk_per_trade_percent": RISK_PER_TRADE_PERCENT, "max_drawdown_percent": MAX_DRAWDOWN_PERCENT},
        scheduler={"heartbeat_seconds": HEARTBEAT_SECONDS},
        charts={"render_timeout_seconds": 30},  # the first chart starts a worker process: give a slow machine time
        tradingview={"allowed_ips": ["127.0.0.1"]},  # TradingView is played from this machine
    )
