"""Charts in the chat, against the emulator over real HTTP: signal cards as photos (uploaded once, then
re-sent by file_id), their edits, text when there is no chart, and /equity."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.app import open_desk, serve_http
from bot.config import ChartSettings, Settings
from bot.emulator import BotApiEmulator
from bot.emulator.model import SentMessage
from core.candles import Candle
from core.orders import OrderKind
from core.signals import Side
from core.trades import EquityPoint
from tests.charts.chart_png import ALLOWED_CHUNKS, png_chunks, png_size
from tests.conftest import Api
from tests.execution.exec_support import quote, request
from tests.support import START, FakeClock
from tests.telegram.conftest import TRADERS, VIEWER, card_for, current, post_signal, telegram_settings

# Renders start a worker process first; a generous timeout keeps these tests about photos, not speed.
PATIENT = ChartSettings(render_timeout_seconds=30)


def chart_settings(database_url: str, emulator: BotApiEmulator, charts: ChartSettings = PATIENT, **telegram: Any) -> Settings:
    return telegram_settings(database_url, emulator, **telegram).model_copy(update={"charts": charts})


def hourly_gold(count: int = 250) -> list[Candle]:
    """H1 bars of XAUUSD around the test signal's entry (2400.50), ending at the signal's time."""
    bars, previous = [], Decimal("2395.00")
    for i in range(count):
        close = Decimal(f"{2398 + 6 * math.sin(i / 11) + 0.01 * i:.2f}")
        bars.append(Candle(START - timedelta(hours=count - i), previous, max(previous, close) + 1, min(previous, close) - 1, close))
        previous = close
    return bars


async def with_candles(desk: Api) -> Api:
    await desk.desk.trading.prices.load_bars("XAUUSD", hourly_gold())
    return desk


def photo_bytes(emulator: BotApiEmulator, message: SentMessage) -> bytes:
    assert message.photo_file_id is not None, f"not a photo: {message.text!r}"
    return emulator.state.files.file(message.photo_file_id).data


def metric(desk: Api, name: str, **labels: str) -> float:
    return desk.desk.registry.get_sample_value(name, labels) or 0.0


async def test_a_card_with_known_candles_is_a_photo_with_the_card_as_caption_and_the_buttons(
    emulator: BotApiEmulator, api_factory: Any, database_url: str
) -> None:
    desk = await with_candles(await api_factory(chart_settings(database_url, emulator)))
    signal = await post_signal(desk)

    card = await card_for(emulator, TRADERS[0], signal)
    assert card.has_photo and card.text is not None
    for fragment in ("XAUUSD · BUY", "Entry   2400.50", "Stop    2390.00", "Target  2420.00", "Approve or reject"):
        assert fragment in card.text, card.text
    assert [b.text for row in card.buttons for b in row] == ["Approve", "Reject"]
    png = photo_bytes(emulator, card)
    assert png_size(png) == (1280, 720)
    assert {kind for kind, _ in png_chunks(png)} <= ALLOWED_CHUNKS
    viewer_card = await card_for(emulator, VIEWER, signal)
    assert viewer_card.has_photo and viewer_card.buttons == ()

    await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
    await emulator.wait_until(lambda: "Approved by you" in (current(emulator, card).text or ""))
    approved = current(emulator, card)
    assert approved.has_photo and approved.photo_file_id == card.photo_file_id  # the caption changed, not the chart
    assert approved.buttons == () and approved.edits == 1
    assert "Entry   2400.50" in (approved.text or "")


async def test_the_same_card_to_twenty_traders_is_rendered_once_and_uploaded_once(
    emulator: BotApiEmulator, api_factory: Any, database_url: str
) -> None:
    traders = list(range(7001, 7021))
    desk = await with_candles(await api_factory(chart_settings(database_url, emulator, traders=traders, viewers=[])))
    signal = await post_signal(desk)

    cards = [await card_for(emulator, trader, signal) for trader in traders]
    assert all(card.has_photo for card in cards)
    assert emulator.uploads == 1
    assert len({card.photo_file_id for card in cards}) == 1  # every later send re-used the upload's file_id
    assert metric(desk, "signaldesk_charts_rendered_total", kind="candles") == 1
    assert metric(desk, "signaldesk_chart_cache_hits_total") == 19
    async with desk.session.get(f"{desk.base_url}/metrics") as response:
        assert 'signaldesk_charts_rendered_total{kind="candles"} 1.0' in await response.text()


async def test_without_candles_the_card_is_text(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    card = await card_for(emulator, TRADERS[0], signal)
    assert not card.has_photo and "XAUUSD · BUY" in (card.text or "")
    assert [b.text for row in card.buttons for b in row] == ["Approve", "Reject"]
    assert emulator.uploads == 0


async def test_a_chart_not_ready_in_time_leaves_the_card_as_text(
    emulator: BotApiEmulator, api_factory: Any, database_url: str
) -> None:
    impatient = ChartSettings(render_timeout_seconds=0.001)  # no worker process can answer this fast
    desk = await with_candles(await api_factory(chart_settings(database_url, emulator, impatient)))
    signal = await post_signal(desk)

    card = await card_for(emulator, TRADERS[0], signal)
    assert not card.has_photo and "Approve or reject" in (card.text or "")
    assert [b.text for row in card.buttons for b in row] == ["Approve", "Reject"]
    assert metric(desk, "signaldesk_chart_renders_dropped_total", reason="timeout") >= 1
    await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Reject"))
    await emulator.wait_until(lambda: "Rejected by you" in (current(emulator, card).text or ""))


async def test_a_photo_card_interrupted_by_a_restart_goes_out_once_and_its_caption_is_still_edited(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock
) -> None:
    settings = chart_settings(database_url, emulator, traders=[TRADERS[0]], viewers=[])
    processes_before = set(multiprocessing.active_children())
    async with (
        open_desk(settings, clock=clock) as desk,
        serve_http(desk.http_app, "127.0.0.1", 0) as url,
        aiohttp.ClientSession() as session,
    ):
        assert desk.telegram is not None
        await desk.trading.prices.load_bars("XAUUSD", hourly_gold())
        crashed = asyncio.Event()

        async def crash(*_: Any) -> None:  # the photo reached Telegram; the process dies before noting it
            crashed.set()
            raise RuntimeError("process killed here")

        desk.telegram.outbox.remember_data = crash  # type: ignore[method-assign]
        signal = await post_signal(Api(url, session, clock, desk))
        await asyncio.wait_for(crashed.wait(), 30)
        assert set(multiprocessing.active_children()) > processes_before  # the chart's worker process
    assert set(multiprocessing.active_children()) <= processes_before  # closed with the desk

    async with open_desk(settings, clock=clock) as desk, serve_http(desk.http_app, "127.0.0.1", 0):
        card = await card_for(emulator, TRADERS[0], signal)
        await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
        await emulator.wait_until(lambda: "Approved by you" in (current(emulator, card).text or ""))
    photos = [m for m in emulator.messages(TRADERS[0]) if m.has_photo]
    assert len(photos) == 1 and current(emulator, card).buttons == ()


async def test_equity_is_a_photo_of_the_traders_own_account(
    emulator: BotApiEmulator, api_factory: Any, database_url: str
) -> None:
    desk = await api_factory(chart_settings(database_url, emulator))
    account = desk.desk.trading.accounts.account_of(TRADERS[0])
    for day, equity in enumerate(("10000", "10250", "9900", "10400", "10100")):
        balance = Decimal(equity)
        await desk.desk.trading.trade_store.add_equity_point(EquityPoint(account, START + timedelta(days=day), balance, balance))

    emulator.say(TRADERS[0], "/equity")
    (reply,) = await emulator.wait_for_messages(TRADERS[0], 1, timeout=30)
    assert reply.has_photo and png_size(photo_bytes(emulator, reply)) == (1280, 720)
    assert "Equity" in (reply.text or "") and "10,100.00" in (reply.text or "")
    assert "Drawdown now 2.88 % (cap 20 %)" in (reply.text or "")
    assert metric(desk, "signaldesk_charts_rendered_total", kind="equity") == 1

    emulator.say(TRADERS[1], "/equity")  # another trader's account has no points
    (other,) = await emulator.wait_for_messages(TRADERS[1], 1)
    assert not other.has_photo and "No equity recorded" in (other.text or "")


async def test_stats_with_closed_trades_is_followed_by_the_pnl_histogram(
    emulator: BotApiEmulator, api_factory: Any, database_url: str
) -> None:
    desk = await api_factory(chart_settings(database_url, emulator))
    broker, account = desk.desk.trading.paper, desk.desk.trading.accounts.account_of(TRADERS[0])
    assert broker is not None
    await broker.on_quote(quote("2400.00", "2400.50", 1))
    await broker.place(request(Side.BUY, "2400.50", "2390.00", "2420.00", account=account), OrderKind.MARKET)
    await broker.on_quote(quote("2420.00", "2420.50", 2))  # the target: +195.00 on 0.10 lot

    emulator.say(TRADERS[0], "/stats")
    text, chart = await emulator.wait_for_messages(TRADERS[0], 2, timeout=30)
    assert "Trades 1: 1 won, 0 lost" in (text.text or "") and not text.has_photo
    assert chart.has_photo and png_size(photo_bytes(emulator, chart)) == (1280, 720)
    assert "PnL per closed trade" in (chart.text or "") and "only one closed trade so far" in (chart.text or "")

    emulator.say(TRADERS[1], "/stats")  # no closed trades: the figures say so, no chart follows
    await emulator.wait_for_messages(TRADERS[1], 1)
    emulator.say(TRADERS[1], "/signals")
    no_trades, after = await emulator.wait_for_messages(TRADERS[1], 2)
    assert "No closed trades yet." in (no_trades.text or "") and not after.has_photo


@pytest.mark.parametrize("user", [VIEWER, 555])
async def test_equity_is_for_traders(desk: Api, emulator: BotApiEmulator, user: int) -> None:
    emulator.say(user, "/equity")
    (reply,) = await emulator.wait_for_messages(user, 1)
    assert (reply.text or "").startswith("This is for traders only") and not reply.has_photo
