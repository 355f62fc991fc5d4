"""A receiving server for forwarded signals (answers a given list of statuses, records every request with the
desk clock's time), a target's settings, and reading the forward queue the way the tests need."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.app import serve_http
from storage.models import ForwardRow
from tests.conftest import Api
from tests.support import FakeClock, independent_signature

FORWARD_PRODUCER = "desk-a"
FORWARD_SECRET = "forward-secret-0123456789"
RECEIVER_PATH = "/api/v1/signals"


@dataclass(frozen=True)
class Received:
    at: Any  # the desk clock's time when it arrived
    path_qs: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def signed_correctly(self) -> bool:
        """Checked by the test suite's own signer, not the desk's."""
        expected = independent_signature(
            FORWARD_SECRET, "POST", self.path_qs, self.headers["X-Timestamp"], self.headers["X-Producer-Id"], self.body
        )
        return self.headers.get("X-Signature") == expected

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    answers: list[int]  # one status per request, in turn; the last one repeats
    received: list[Received] = field(default_factory=list)

    async def wait_for(self, count: int) -> list[Received]:
        async with asyncio.timeout(15):
            while len(self.received) < count:
                await asyncio.sleep(0.02)
        return self.received


@asynccontextmanager
async def receiving(clock: FakeClock, answers: list[int]) -> AsyncIterator[Receiver]:
    receiver = Receiver("", list(answers))

    async def handle(request: web.Request) -> web.Response:
        index = min(len(receiver.received), len(receiver.answers) - 1)
        status = receiver.answers[index]
        receiver.received.append(Received(clock.now(), request.path_qs, dict(request.headers), await request.read(), status))
        if status >= 400:
            problem = {"type": "about:blank", "title": "refused", "status": status, "detail": f"test receiver says {status}"}
            return web.json_response(problem, status=status, content_type="application/problem+json")
        return web.json_response({"id": f"received-{len(receiver.received)}"}, status=status)

    app = web.Application()
    app.router.add_post(RECEIVER_PATH, handle)
    async with serve_http(app, "127.0.0.1", 0) as base:
        receiver.url = base + RECEIVER_PATH
        yield receiver


def target(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": url, "producer_id": FORWARD_PRODUCER, "secret": FORWARD_SECRET, **overrides}


async def forward_rows(api: Api) -> list[ForwardRow]:
    async with api.desk.engine.connect() as conn:
        return list((await conn.execute(select(ForwardRow).order_by(ForwardRow.id))).all())  # type: ignore[arg-type]


async def rows_when(api: Api, condition: Callable[[list[ForwardRow]], bool]) -> list[ForwardRow]:
    """The forward queue once `condition` holds (an attempt's outcome is recorded after its answer arrives)."""
    async with asyncio.timeout(15):
        while not condition(rows := await forward_rows(api)):
            await asyncio.sleep(0.02)
    return rows
