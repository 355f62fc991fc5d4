"""The Bot API over HTTP, at the URLs aiogram's ``TelegramAPIServer.from_base`` builds:
``{base}/bot{token}/{method}`` and ``{base}/file/bot{token}/{path}``."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.emulator.errors import BotApiError
from bot.emulator.methods import find_method
from bot.emulator.params import read_request_params
from bot.emulator.state import EmulatorState, Outage

STATE_KEY = web.AppKey("emulator_state", EmulatorState)


def add_api_routes(app: web.Application, state: EmulatorState) -> None:
    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", _call_method)
    app.router.add_get("/file/bot{token}/{path:.+}", _download_file)


async def _call_method(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        _check_availability(request, state)
        method = find_method(request.match_info["method"])
        result = await method(state, await read_request_params(request))
    except BotApiError as error:
        return web.json_response(error.payload(), status=error.status)
    return web.json_response({"ok": True, "result": result})


async def _download_file(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        _check_availability(request, state)
    except BotApiError as error:
        return web.json_response(error.payload(), status=error.status)
    stored = state.files.by_path(request.match_info["path"])
    if stored is None:
        return web.json_response(BotApiError(404, "Not Found").payload(), status=404)
    return web.Response(body=stored.data, content_type="application/octet-stream")


def _check_availability(request: web.Request, state: EmulatorState) -> None:
    """Apply the simulated outage, then Telegram's token check."""
    if state.outage is Outage.DROP:
        if request.transport is not None:
            request.transport.close()
        # aiohttp ends a handler that raises CancelledError without writing a response.
        raise asyncio.CancelledError
    if state.outage is Outage.UNAVAILABLE:
        raise BotApiError(503, "Service Unavailable")
    if request.match_info["token"] != state.bot.token:
        raise BotApiError(401, "Unauthorized")
