"""Charts of a trader's account, with the caption that goes with them: equity with its drawdown (/equity)
and the distribution of closed-trade PnL (/stats). Read and rendered when the message is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from charts import ChartError, ChartPhoto, ChartRenderer, ChartSpec, EquityChart, PnlChart, Theme
from charts import EquityPoint as ChartPoint
from bot.telegram.photos import with_notes
from core.drawdown import drawdown, percent
from core.trades import EquityPoint
from core.trading_ports import TradeStore

EQUITY = EquityChart.kind
PNL = PnlChart.kind
CHART_KINDS = (EQUITY, PNL)
_MAX_EQUITY_POINTS = 1500  # a chart is 1280 px wide: more points only cost time to send and draw


@dataclass(frozen=True)
class ChartMessage:
    caption: str  # the photo's caption, or the whole message when there is no photo
    photo: ChartPhoto | None  # None: nothing to chart yet, or the chart was not ready in time (caption says which)


class AccountCharts:
    def __init__(
        self, trades: TradeStore, renderer: ChartRenderer, *, theme: Theme, drawdown_cap_percent: Decimal, currency: str
    ) -> None:
        self._trades = trades
        self._renderer = renderer
        self._theme = theme
        self._cap = drawdown_cap_percent
        self._currency = currency

    async def message(self, kind: str, account_id: str) -> ChartMessage:
        if kind == EQUITY:
            return await self.equity(account_id)
        if kind == PNL:
            return await self.pnl(account_id)
        raise ValueError(f"no account chart of kind {kind!r}")

    async def equity(self, account_id: str) -> ChartMessage:
        points = await self._trades.equity_points(account_id)
        if not points:
            return ChartMessage(
                "No equity recorded for your account yet: the curve starts with your first trade.", None
            )
        now, peak = points[-1].equity, max(p.equity for p in points)
        caption = (
            f"<b>Equity</b> · {escape(account_id)}\n"
            f"Now <code>{now:,.2f}</code> · peak <code>{peak:,.2f}</code>\n"
            f"Drawdown now {percent(drawdown(peak, now))} (cap {self._cap:g} %)"
        )
        points_drawn = tuple(ChartPoint(p.time, p.equity) for p in thinned(points, _MAX_EQUITY_POINTS))
        chart = EquityChart(account_id, points_drawn, self._cap, currency=self._currency)
        return await self._with_chart(caption, chart, "/equity")

    async def pnl(self, account_id: str) -> ChartMessage:
        results = [p.pnl for p in await self._trades.closed_positions(account_id) if p.pnl is not None]
        if not results:
            return ChartMessage("No closed trades yet: the PnL chart starts with the first one.", None)
        caption = f"<b>PnL per closed trade</b> · {escape(account_id)} · {len(results)} trade(s)"
        return await self._with_chart(caption, PnlChart(account_id, tuple(results), currency=self._currency), "/stats")

    async def _with_chart(self, caption: str, spec: ChartSpec, command: str) -> ChartMessage:
        try:
            photo = await self._renderer.render(spec, self._theme)
        except ChartError as exc:
            return ChartMessage(f"{caption}\n<i>No chart: {escape(str(exc))}.</i>", None)
        if photo is None:
            return ChartMessage(f"{caption}\n<i>The chart was not ready in time; send {command} again in a minute.</i>", None)
        return ChartMessage(with_notes(caption, photo.notes), photo)


def thinned(points: Sequence[EquityPoint], limit: int) -> Sequence[EquityPoint]:
    """At most about `limit` points, in time order: of each run of points its lowest, highest and last,
    so every peak and trough, and with them the drawdown, survives."""
    if len(points) <= limit:
        return points
    run_length = -(-len(points) // max(1, limit // 3))
    kept: list[EquityPoint] = []
    for start in range(0, len(points), run_length):
        run = range(start, min(start + run_length, len(points)))
        picks = {min(run, key=lambda i: points[i].equity), max(run, key=lambda i: points[i].equity), run[-1]}
        kept.extend(points[i] for i in sorted(picks))
    return kept
