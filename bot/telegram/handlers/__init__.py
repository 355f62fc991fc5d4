"""One Router per feature; `all_routers()` in the order the Dispatcher should try them."""

from __future__ import annotations

from aiogram import Router

from bot.telegram.handlers import admin, charts, decisions, drawdown, fallback, pause, signals, start, trading


def all_routers() -> list[Router]:
    """Fresh routers each call (a router can belong to one Dispatcher); fallback last, it catches the rest."""
    modules = (start, decisions, signals, pause, admin, charts, drawdown, trading, fallback)
    return [module.build_router() for module in modules]
