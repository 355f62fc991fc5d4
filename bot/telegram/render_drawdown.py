"""Pure rendering of the admins' /drawdown: each account against the cap, and the outcome of a reset."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from bot.telegram.render_trading import money, percent
from core.drawdown import AccountRisk

DRAWDOWN_USAGE = (
    "Usage: /drawdown — every account's equity, peak and drawdown against the cap\n"
    "/drawdown reset &lt;trader id or account id&gt; — allow new orders again and measure the drawdown from the current equity"
)


def render_drawdown_status(risks: Sequence[AccountRisk], cap: Decimal) -> str:
    if not risks:
        return "No trading accounts: telegram.traders is empty."
    lines = [f"<b>Drawdown</b> · cap {percent(cap)}"]
    lines += [_account_line(risk) for risk in risks]
    if any(risk.blocked for risk in risks):
        lines.append("Blocked accounts take no new orders. /drawdown reset &lt;id&gt; allows them again.")
    return "\n".join(lines)


def render_reset(risk: AccountRisk) -> str:
    assert risk.equity is not None
    return (
        f"Drawdown guard reset for <code>{escape(risk.account_id)}</code>: new orders are allowed, "
        f"and the drawdown is now measured from the current equity {money(risk.equity)}."
    )


def _account_line(risk: AccountRisk) -> str:
    state = "🛑 <b>BLOCKED</b>" if risk.blocked else "trading"
    name = f"<code>{escape(risk.account_id)}</code>"
    if risk.equity is None or risk.peak is None or risk.drawdown is None:
        return f"{name} · equity unknown ({escape(risk.error or 'no answer')}) · {state}"
    return f"{name} · equity {money(risk.equity)} · peak {money(risk.peak)} · drawdown <b>{percent(risk.drawdown)}</b> · {state}"
