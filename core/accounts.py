"""Which broker account is whose. On the paper broker every trader has an account of their own, named
after their Telegram user id; on a live broker (one MT5 login) every trader trades the one account."""

from __future__ import annotations

from dataclasses import dataclass

_PREFIX = "tg-"


@dataclass(frozen=True)
class AccountMap:
    traders: frozenset[int]
    shared_account: str | None = None  # set when every trader trades one broker account

    def account_of(self, trader_id: int) -> str:
        return self.shared_account or f"{_PREFIX}{trader_id}"

    def owners(self, account_id: str) -> frozenset[int]:
        """The traders to tell about what happens on `account_id`."""
        if self.shared_account is not None:
            return self.traders if account_id == self.shared_account else frozenset()
        number = account_id.removeprefix(_PREFIX)
        if number == account_id or not number.lstrip("-").isdigit():
            return frozenset()
        return frozenset({int(number)}) & self.traders

    def accounts(self) -> list[str]:
        """Every account the desk trades, for the drawdown guard and the heartbeat."""
        if self.shared_account is not None:
            return [self.shared_account]
        return sorted(self.account_of(trader) for trader in self.traders)
