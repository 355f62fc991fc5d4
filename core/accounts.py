"""Which broker account is whose: every trader has one account, named after their Telegram user id."""

from __future__ import annotations

_PREFIX = "tg-"


def trader_account(trader_id: int) -> str:
    return f"{_PREFIX}{trader_id}"


def account_trader(account_id: str) -> int | None:
    """The trader an account belongs to, or None for an account no trader owns."""
    number = account_id.removeprefix(_PREFIX)
    if number == account_id or not number.lstrip("-").isdigit():
        return None
    return int(number)
