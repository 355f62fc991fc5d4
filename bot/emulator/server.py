"""The emulator as an aiohttp app, and a runner that serves it on a free local port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from types import TracebackType

from aiohttp import ClientSession, web

from bot.emulator.api_routes import STATE_KEY, add_api_routes
from bot.emulator.control import EmulatorControl
from bot.emulator.control_routes import CONTROL_PREFIX, create_control_app
from bot.emulator.state import EmulatorState
from bot.emulator.webhook import WebhookPusher


def create_emulator_app(state: EmulatorState) -> web.Application:
    app = web.Application()
    add_api_routes(app, state)
    app.add_subapp(CONTROL_PREFIX, create_control_app(EmulatorControl(state)))
    app.cleanup_ctx.append(_webhook_pusher)
    return app


async def _webhook_pusher(app: web.Application) -> AsyncIterator[None]:
    async with ClientSession() as session:
        task = asyncio.create_task(WebhookPusher(app[STATE_KEY], session).run())
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


class BotApiEmulator(EmulatorControl):
    """A running emulator: ``async with BotApiEmulator() as telegram: ... telegram.base_url``.

    It is its own control handle (say, press, messages, waits, modes), so tests drive it
    directly; other processes use the same operations over ``{base_url}/_emulator/``.
    """

    def __init__(self, state: EmulatorState | None = None) -> None:
        super().__init__(state or EmulatorState())
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """What ``TelegramAPIServer.from_base`` (config ``telegram.api_base``) needs."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not running")
        return self._base_url

    @property
    def token(self) -> str:
        return self.state.bot.token

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.state.closing = False
        # Long polls end as soon as the state closes, so a short grace period is enough.
        runner = web.AppRunner(
            create_emulator_app(self.state), access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.state.close()
        await self._runner.cleanup()
        self._runner = None
        self._base_url = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
