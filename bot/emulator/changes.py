"""A broadcast "something changed" signal that synchronous code can fire.

The emulator mutates its state in plain methods (no awaits, so every mutation is atomic on the
event loop); waiters re-check their own predicate after each change instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ChangeSignal:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        # Wake everyone waiting on the current event and start a fresh one for later waiters.
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` holds; False when ``timeout`` seconds pass first."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._event.wait()
        except TimeoutError:
            return predicate()
        return True
