"""The control API over HTTP under ``/_emulator/``, so another process (the CLI, the demo)
can drive the emulator the way tests do through :class:`EmulatorControl`."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.emulator.control import ControlError, EmulatorControl
from bot.emulator.errors import BotApiError
from bot.emulator.limits import RateLimits
from bot.emulator.state import Outage

CONTROL_PREFIX = "/_emulator"
CONTROL_KEY = web.AppKey("emulator_control", EmulatorControl)


def create_control_app(control: EmulatorControl) -> web.Application:
    """The control API, mounted by the emulator app at :data:`CONTROL_PREFIX`."""
    app = web.Application(middlewares=[_control_errors])
    app[CONTROL_KEY] = control
    app.router.add_post("/say", _say)
    app.router.add_post("/press", _press)
    app.router.add_get("/chats/{chat_id}/messages", _messages)
    app.router.add_get("/callbacks/{callback_id}", _callback)
    app.router.add_get("/files/{file_id}", _file)
    app.router.add_put("/blocked/{user_id}", _block)
    app.router.add_delete("/blocked/{user_id}", _unblock)
    app.router.add_put("/outage", _set_outage)
    app.router.add_get("/limits", _limits)
    app.router.add_put("/limits", _set_limits)
    app.router.add_get("/stats", _stats)
    return app


@web.middleware
async def _control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a bad control request with 400 (408 for a wait that ran out) and the reason."""
    try:
        return await handler(request)
    except KeyError as error:
        return _error(400, f"missing field {error}")
    except BotApiError as error:
        return _error(400, error.description)
    except (TypeError, ValueError) as error:  # includes ControlError
        return _error(400, str(error))
    except TimeoutError as error:
        return _error(408, str(error))


async def _say(request: web.Request) -> web.Response:
    body = await _body(request)
    message = request.app[CONTROL_KEY].say(
        int(body["user_id"]),
        str(body["text"]),
        first_name=body.get("first_name"),
        username=body.get("username"),
    )
    return web.json_response({"message": message}, status=201)


async def _press(request: web.Request) -> web.Response:
    body = await _body(request)
    user_id = body.get("user_id")
    callback_id = request.app[CONTROL_KEY].press(
        int(body["chat_id"]),
        int(body["message_id"]),
        data=body.get("data"),
        button=body.get("button"),
        user_id=int(user_id) if user_id is not None else None,
        require_button=bool(body.get("require_button", True)),
    )
    return web.json_response({"callback_query_id": callback_id}, status=201)


async def _messages(request: web.Request) -> web.Response:
    """``?min_count=N&timeout=S`` waits until the bot has sent at least N messages there."""
    control = request.app[CONTROL_KEY]
    chat_id = int(request.match_info["chat_id"])
    min_count = int(request.query.get("min_count", "0"))
    timeout = float(request.query.get("timeout", "0"))
    messages = await control.wait_for_messages(chat_id, min_count, timeout)
    return web.json_response({"messages": [asdict(m) for m in messages]})


async def _callback(request: web.Request) -> web.Response:
    """``?timeout=S`` waits for the bot's answer; without it, ``answer`` may be null."""
    control = request.app[CONTROL_KEY]
    callback_id = request.match_info["callback_id"]
    if "timeout" in request.query:
        answer = await control.wait_for_answer(callback_id, float(request.query["timeout"]))
    else:
        answer = control.callback_answer(callback_id)
    return web.json_response(
        {"callback_query_id": callback_id, "answer": asdict(answer) if answer else None}
    )


async def _file(request: web.Request) -> web.Response:
    """The bytes of a photo the bot sent (by any file_id of it), e.g. to save a chart."""
    stored = request.app[CONTROL_KEY].file(request.match_info["file_id"])
    return web.Response(body=stored.data, content_type="application/octet-stream")


async def _block(request: web.Request) -> web.Response:
    request.app[CONTROL_KEY].block(int(request.match_info["user_id"]))
    return web.Response(status=204)


async def _unblock(request: web.Request) -> web.Response:
    request.app[CONTROL_KEY].unblock(int(request.match_info["user_id"]))
    return web.Response(status=204)


async def _set_outage(request: web.Request) -> web.Response:
    body = await _body(request)
    request.app[CONTROL_KEY].set_outage(Outage(body["mode"]))
    return web.json_response({"mode": request.app[CONTROL_KEY].state.outage.value})


async def _limits(request: web.Request) -> web.Response:
    return web.json_response(_limits_json(request.app[CONTROL_KEY].limits))


async def _set_limits(request: web.Request) -> web.Response:
    body = await _body(request)
    control = request.app[CONTROL_KEY]
    control.set_limits(
        RateLimits(
            global_per_second=body.get("global_per_second"),
            per_chat_per_second=body.get("per_chat_per_second"),
            speedup=float(body.get("speedup", 1.0)),
        )
    )
    return web.json_response(_limits_json(control.limits))


async def _stats(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    stats = control.stats
    chats = {record.chat_id for record in stats.sends}
    return web.json_response(
        {
            "too_many_requests": stats.too_many_requests,
            "accepted_sends": len(stats.sends),
            "peak_per_second": stats.peak(1.0),
            "peak_per_second_in_a_chat": max((stats.peak(1.0, c) for c in chats), default=0),
            "photo_uploads": control.uploads,
        }
    )


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _limits_json(limits: RateLimits) -> dict[str, Any]:
    return {
        "global_per_second": limits.global_per_second,
        "per_chat_per_second": limits.per_chat_per_second,
        "speedup": limits.speedup,
    }


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise ControlError("body is not JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body is not a JSON object")
    return body
