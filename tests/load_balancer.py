"""A round-robin HTTP load balancer for tests: what sits in front of several instances in production.
Each request goes to the next backend in turn, headers and body as they came; the answer comes back as is."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class RoundRobin:
    def __init__(self, backends: list[str], session: aiohttp.ClientSession) -> None:
        self.backends = backends  # base URLs; may be filled in after the balancer starts
        self.served: Counter[str] = Counter()  # requests each backend answered
        self._turn = itertools.count()
        self._session = session

    async def forward(self, request: web.Request) -> web.Response:
        backend = self.backends[next(self._turn) % len(self.backends)]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(request.method, backend + request.path_qs, headers=headers, data=await request.read()) as answer:
            body = await answer.read()
            self.served[backend] += 1
            return web.Response(status=answer.status, body=body, content_type=answer.content_type)


@asynccontextmanager
async def round_robin(backends: list[str]) -> AsyncIterator[tuple[RoundRobin, str]]:
    """Serve the balancer on a free local port; yields it and its base URL."""
    async with aiohttp.ClientSession() as session:
        balancer = RoundRobin(backends, session)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", balancer.forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield balancer, f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()
