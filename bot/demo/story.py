"""The tour's script: one EURUSD session on a small desk. A strategy and a TradingView alert propose trades,
Alice and Bob decide in Telegram, the paper broker fills and closes them on the replayed prices, the
drawdown guard stops Bob, and Olga, the admin, gets the alert and checks the desk.

The prices are the sample file's real bars, so the levels below are written for them: Alice's breakout
fills at 05:25 and reaches its target at 07:35, Bob's sell from TradingView is stopped out at 08:35, the
dip both buy fills at 09:25 and drags Bob past the drawdown cap ten minutes later, and Alice's share of it
is stopped out at 12:30."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.demo.chats import Chats
from bot.demo.cast import ALICE, BOB, OLGA, STRATEGY, TRADINGVIEW, Person
from bot.demo.console import Transcript
from bot.demo.market import INSTRUMENT
from bot.demo.stage import MAX_DRAWDOWN_PERCENT, Stage
from bot.producer_client import ProducerApiError
from bot.tradingview_cli import alert_message
from core.signing import format_timestamp

SCENES = 12


@dataclass(frozen=True)
class Proposal:
    side: str
    price: str
    stop: str
    target: str

    def __str__(self) -> str:
        return f"{INSTRUMENT} {self.side.upper()} {self.price} SL {self.stop} TP {self.target}"


class Tour:
    def __init__(self, stage: Stage, chats: Chats, transcript: Transcript) -> None:
        self._stage = stage
        self._chats = chats
        self._out = transcript

    async def play(self) -> None:
        await self._desk_opens()
        await self._breakout()
        await self._replay("The breakout fills", {0: {ALICE: 1}})
        await self._positions_and_a_refusal()
        await self._replay("EURUSD rallies: Alice's target", {1: {}, 2: {ALICE: 1}})
        await self._tradingview_alert()
        await self._replay("The rally goes on: Bob's stop", {3: {BOB: 1}})
        await self._dip()
        await self._replay("The dip deepens: the drawdown guard stops Bob", {4: {ALICE: 1, BOB: 2, OLGA: 1}, 5: {}, 6: {}})
        await self._blocked()
        await self._replay("The slide: Alice's stop", {7: {ALICE: 1}})
        await self._end_of_session()

    async def _desk_opens(self) -> None:
        session = self._stage.session
        self._scene(session.last_price().time, "The desk opens")
        first, last = session.history[0].time, session.history[-1].time
        self._out.narrate(
            f"Chart history: {len(session.history)} real EURUSD hourly bars ({first:%d %b} to {last:%d %b %H:%M}), "
            "from the sample file, moved to the recent past."
        )
        price = session.last_price()
        await self._stage.feed.send_quotes([price])
        self._out.market(f"{price.time:%H:%M}  {INSTRUMENT} bid {price.bid} ask {price.ask} (1 quote, accepted)")
        for person in (ALICE, BOB, OLGA):
            await self._chats.say(person.user_id, "/start")

    async def _breakout(self) -> None:
        self._scene(self._stage.session.at(5), "A breakout from trend-bot: Alice takes it, Bob passes")
        signal = await self._propose(Proposal("buy", "1.23600", "1.23400", "1.24000"))
        await self._decide(signal, {ALICE: "Approve", BOB: "Reject"})

    async def _positions_and_a_refusal(self) -> None:
        self._scene(self._stage.session.at(6), "Alice checks her position; a signal is refused")
        await self._chats.say(ALICE.user_id, "/positions")
        self._out.narrate("trend-bot wants a quick scalp, risking 8 pips to make 5:")
        await self._propose(Proposal("sell", "1.23750", "1.23830", "1.23700"))
        self._out.narrate("Refused at the door, with the reason: no trader sees a trade that breaks the desk's rules.")

    async def _tradingview_alert(self) -> None:
        self._scene(self._stage.session.at(8), "A TradingView alert: Bob sells, Alice passes")
        signal = await self._alert(side="sell", close="1.23962", bar=self._stage.session.at(7), stop_points=200, target_points=300)
        await self._decide(signal, {BOB: "Approve", ALICE: "Reject"})

    async def _dip(self) -> None:
        self._scene(self._stage.session.at(9), "trend-bot buys the dip; both traders take it")
        signal = await self._propose(Proposal("buy", "1.24180", "1.23580", "1.25080"))
        await self._decide(signal, {ALICE: "Approve", BOB: "Approve"})
        self._out.narrate(
            f"Bob is already down after his stop: the drawdown guard blocks an account {MAX_DRAWDOWN_PERCENT} % below its peak."
        )

    async def _blocked(self) -> None:
        self._scene(self._stage.session.at(12), "Bob is blocked: his approval places nothing")
        signal = await self._propose(Proposal("sell", "1.23720", "1.23920", "1.23420"))
        await self._decide(signal, {BOB: "Approve", ALICE: "Reject"})

    async def _end_of_session(self) -> None:
        self._scene(self._stage.session.closes_at, "End of the session: everyone looks back")
        await self._chats.say(ALICE.user_id, "/stats", replies=2)
        await self._chats.say(BOB.user_id, "/equity")
        await self._chats.say(OLGA.user_id, "/drawdown")
        await self._stage.desk.heartbeat.beat()
        await self._chats.say(OLGA.user_id, "/status")
        for person in (ALICE, BOB, OLGA):
            await self._chats.show(person.user_id)  # anything that came without being waited for

    # --- steps ---

    def _scene(self, at: datetime, title: str) -> None:
        self._stage.clock.advance_to(at)
        self._out.scene(at, title)

    async def _propose(self, proposal: Proposal) -> dict[str, Any] | None:
        what = f"POST /api/v1/signals  {proposal}"
        try:
            result = await self._stage.strategy.send_signal(
                INSTRUMENT, proposal.side, proposal.price, proposal.stop, proposal.target, time=self._stage.clock.now()
            )
        except ProducerApiError as refused:
            self._out.request(STRATEGY, what, _refusal(refused), ok=False)
            return None
        self._out.request(STRATEGY, what, f"201 Created · signal #{_short(result.signal)}", ok=True)
        return result.signal

    async def _alert(self, *, side: str, close: str, bar: datetime, stop_points: int, target_points: int) -> dict[str, Any]:
        """What TradingView sends when the alert made from `signaldesk tradingview template` fires."""
        template = alert_message(
            self._stage.tradingview_token, side=side, stop_points=Decimal(stop_points), target_points=Decimal(target_points)
        )
        filled = {
            "{{exchange}}": "FX", "{{ticker}}": INSTRUMENT, "{{close}}": close, "{{interval}}": "60",
            "{{time}}": format_timestamp(bar), "{{timenow}}": format_timestamp(self._stage.clock.now()),
        }
        for placeholder, value in filled.items():
            template = template.replace(placeholder, value)
        path = f"/api/v1/tradingview/{TRADINGVIEW}"
        self._out.narrate(
            f"An alert fires at the close of the {bar:%H:%M} bar. Its message, from `signaldesk tradingview "
            "template` and filled in by TradingView (the token masked here):"
        )
        self._out.detail(" ".join(template.splitlines()).replace(self._stage.tradingview_token, "•••"))
        what = f"POST {path}  (text/plain)"
        async with self._stage.http.post(
            self._stage.api_url + path, data=template, headers={"Content-Type": "text/plain"}
        ) as response:
            answer = await response.json()
        if response.status != 201:
            raise RuntimeError(f"the TradingView alert was refused: {response.status} {answer}")
        self._out.request("TradingView", what, f"201 Created · signal #{_short(answer)}", ok=True)
        return answer

    async def _decide(self, signal: dict[str, Any] | None, presses: dict[Person, str]) -> None:
        """Each trader gets the signal's card; then they press, in this order. An approval is followed by a
        message about the order (placed, or why not)."""
        assert signal is not None, "the tour's signals are accepted"
        cards = {}
        for trader in (ALICE, BOB):
            await self._chats.expect(trader.user_id)
            cards[trader] = self._chats.find(trader.user_id, f"#{_short(signal)}")
        for person, button in presses.items():
            await self._chats.press(person.user_id, cards[person], button, replies=1 if button == "Approve" else 0)

    async def _replay(self, title: str, bars: dict[int, dict[Person, int]]) -> None:
        """Push each session bar quote by quote, beating after each as the heartbeat would (every 10 s, which is
        next to nothing in market time): the drawdown guard measures every account. After a bar, show the
        messages each person is expected to get from it."""
        session = self._stage.session
        self._scene(session.bars[min(bars)].time, title)
        for index, expected in bars.items():
            quotes, accepted = session.bar_quotes(index), 0
            for quote in quotes:
                self._stage.clock.advance_to(quote.time)
                accepted += (await self._stage.feed.send_quotes([quote]))["accepted"]
                await self._stage.desk.heartbeat.beat()
            bar = session.bars[index]
            self._out.market(
                f"{quotes[0].time:%H:%M}–{quotes[-1].time:%H:%M}  {INSTRUMENT} {session.shown(bar.open)} → "
                f"{session.shown(bar.close)}  ({len(quotes)} quotes, {accepted} accepted)"
            )
            for person, count in expected.items():
                await self._chats.expect(person.user_id, count)


def _short(signal: dict[str, Any]) -> str:
    return str(signal["id"]).replace("-", "")[-8:]


def _refusal(error: ProducerApiError) -> str:
    reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in error.errors if isinstance(e, dict) and "field" in e)
    return f"{error.status} {error.title}: {reasons or error.detail}"
