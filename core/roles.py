"""Who a Telegram user is to the desk, from configuration."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRADER = "trader"
    VIEWER = "viewer"
    STRANGER = "stranger"


@dataclass(frozen=True)
class Roles:
    traders: frozenset[int]
    admins: frozenset[int]
    viewers: frozenset[int]

    @classmethod
    def of(cls, traders: Iterable[int], admins: Iterable[int], viewers: Iterable[int]) -> Roles:
        return cls(frozenset(traders), frozenset(admins), frozenset(viewers))

    def roles_of(self, user_id: int) -> frozenset[Role]:
        found = {role for role, ids in ((Role.ADMIN, self.admins), (Role.TRADER, self.traders), (Role.VIEWER, self.viewers)) if user_id in ids}
        return frozenset(found or {Role.STRANGER})

    def is_trader(self, user_id: int) -> bool:
        return user_id in self.traders

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins
