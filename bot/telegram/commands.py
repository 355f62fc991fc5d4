"""The command list: shown by /help and registered with Telegram (setMyCommands)."""

from __future__ import annotations

from html import escape

from aiogram.types import BotCommand

from core.roles import Role

COMMANDS: list[tuple[str, str, Role | None]] = [
    ("start", "your user id and role", None),
    ("help", "what you can do here", None),
    ("signals", "the latest signals and their status", Role.TRADER),
    ("positions", "your open positions", Role.TRADER),
    ("balance", "your account balance and equity", Role.TRADER),
    ("history", "your closed trades: /history [n]", Role.TRADER),
    ("equity", "your equity curve (chart)", Role.TRADER),
    ("stats", "win rate, profit factor, expectancy, max drawdown, PnL chart", Role.TRADER),
    ("close", "close a position: /close <id>", Role.TRADER),
    ("pause", "stop receiving new signal cards", Role.TRADER),
    ("resume", "receive signal cards again", Role.TRADER),
    ("status", "desk health (admins)", Role.ADMIN),
    ("drawdown", "drawdown per account (admins)", Role.ADMIN),
    ("closeall", "close every open position, after a confirm (admins)", Role.ADMIN),
]


def bot_commands() -> list[BotCommand]:
    return [BotCommand(command=name, description=description) for name, description, _ in COMMANDS]


def help_text(roles: frozenset[Role]) -> str:
    def allowed(role: Role | None) -> bool:
        return role is None or role in roles

    lines = [f"/{name} — {escape(description)}" for name, description, role in COMMANDS if allowed(role)]
    if Role.VIEWER in roles and Role.TRADER not in roles:
        lines.append("You receive signal cards as a viewer; only traders can approve or reject them.")
    return "\n".join(lines)
