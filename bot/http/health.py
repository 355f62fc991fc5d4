"""Liveness, readiness and metrics endpoints (unsigned: for orchestrators and Prometheus)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.http.deps import DEPS
from core.errors import StorageUnavailable


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await request.app[DEPS].store.ping()
    except StorageUnavailable:
        return web.json_response({"status": "unavailable", "database": "down"}, status=503, headers={"Retry-After": "5"})
    return web.json_response({"status": "ready", "database": "up"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[DEPS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
