"""Outbound forwarding in the process: the signed HTTP POST and the task that keeps the queue moving."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
from yarl import URL

from bot.config import ForwardSettings
from core.clock import Clock
from core.forward_policy import ForwardEvent, ForwardTarget
from core.forwarding import Answer, ForwardingService, ForwardRequest
from core.notify import OpsAlerts
from core.signing import format_timestamp, sign
from storage.batch_runner import BatchRunner
from storage.forward_queue import SqlForwardQueue

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # a look at the queue this often: retries come due, executions queue their forwards
MAX_IN_FLIGHT = 32


def forward_targets(settings: Sequence[ForwardSettings]) -> list[ForwardTarget]:
    return [
        ForwardTarget(
            url=t.url, producer_id=t.producer_id, secret=t.secret.get_secret_value(),
            events=frozenset(ForwardEvent(e) for e in t.events), max_attempts=t.max_attempts,
            max_age=timedelta(seconds=t.max_age_seconds), timeout_seconds=t.timeout_seconds,
        )
        for t in settings
    ]


def urls_for(targets: Sequence[ForwardTarget], event: ForwardEvent) -> tuple[str, ...]:
    """The targets that want `event`, as the queue names them."""
    return tuple(t.url for t in targets if event in t.events)


class HttpForwardPoster:
    """POSTs a forward signed with the producer scheme (core/signing.py), exactly as a producer would."""

    def __init__(self, session: aiohttp.ClientSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def post(self, target: ForwardTarget, request: ForwardRequest) -> Answer:
        url = URL(target.url)
        endpoint = url.raw_path + (f"?{url.raw_query_string}" if url.raw_query_string else "")
        timestamp = format_timestamp(self._clock.now())
        headers = {
            "Content-Type": "application/json",
            "X-Producer-Id": target.producer_id,
            "X-Timestamp": timestamp,
            "X-Signature": sign(target.secret, "POST", endpoint, timestamp, target.producer_id, request.body),
            "X-Idempotency-Key": request.idempotency_key,
            "X-SignalDesk-Event": request.event,
        }
        try:
            async with self._session.post(
                URL(str(url), encoded=True), data=request.body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=target.timeout_seconds),
            ) as response:
                text = await response.text(errors="replace")
                return Answer(response.status, _describe(response.status, response.reason, text), _retry_after(response))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Answer(None, f"no answer: {type(exc).__name__}")


def _describe(status: int, reason: str | None, text: str) -> str:
    """`HTTP 401 Unauthorized: <the problem's detail>`, so an alert says why a receiver refused."""
    try:
        problem = json.loads(text)
    except ValueError:
        problem = None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    described = f"HTTP {status} {reason or ''}".rstrip()
    return f"{described}: {str(detail)[:200]}" if detail and status >= 300 else described


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class Forwarder:
    """Delivers due forwards, each attempt in its own task so a slow target does not hold up the others."""

    def __init__(self, service: ForwardingService) -> None:
        self._service = service
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look at the queue now (a signal was accepted, a retry came due under a test's clock)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                try:
                    await self._start_due()
                except Exception as exc:  # noqa: BLE001 - the database may be down: look again soon
                    log.warning("event=forward_queue_unreachable error=%s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):  # asyncio.timeout: 3.11's wait_for can swallow a cancellation
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _start_due(self) -> None:
        room = MAX_IN_FLIGHT - len(self._tasks)
        if room <= 0:
            return
        for item in await self._service.claim(room):
            task = asyncio.create_task(self._service.deliver(item), name=f"forward-{item.id}")
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The claim stays held until its lease runs out; then the delivery is tried again.
            log.error("event=forward_attempt_crashed error=%s: %s", type(error).__name__, error)
        self._wake.set()  # room for another


@asynccontextmanager
async def open_forwarding(
    targets: Sequence[ForwardTarget], runner: BatchRunner, clock: Clock, alerts: OpsAlerts, worker: str
) -> AsyncIterator[Forwarder | None]:
    """Deliver the forward queue until the block ends; None when no target is configured."""
    if not targets:
        yield None
        return
    async with aiohttp.ClientSession() as session:
        service = ForwardingService(SqlForwardQueue(runner), HttpForwardPoster(session, clock), targets, clock, alerts, worker=worker)
        forwarder = Forwarder(service)
        task = asyncio.create_task(forwarder.run(), name="forwarder")
        try:
            yield forwarder
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
