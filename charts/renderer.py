"""ChartRenderer: charts for async callers, rendered off the event loop.

Renders run in a pool of worker processes (matplotlib holds the GIL while it draws, so threads would
stall the bot's event loop), behind a bounded queue. Each request waits at most `timeout_seconds`;
after that, or when the queue is full, it gets None so the message goes out without its chart rather
than late. Results are cached, and identical requests in flight share one render.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from prometheus_client import CollectorRegistry

from charts.cache import ChartCache
from charts.errors import ChartError
from charts.key import chart_key
from charts.metrics import ChartMetrics
from charts.model import ChartSpec, RenderedChart
from charts.theme import Theme

log = logging.getLogger(__name__)

RenderFunction = Callable[[ChartSpec, Theme], RenderedChart]
_ORPHAN_CHECK_SECONDS = 1.0
_WORKER_NICENESS = 10


@dataclass(frozen=True, slots=True)
class ChartPhoto:
    """A chart ready to send: the PNG, notes for the caption, and the file_id of an earlier upload of
    these exact bytes (send that instead of the PNG when present)."""

    key: str
    png: bytes
    notes: tuple[str, ...]
    file_id: str | None


@dataclass(frozen=True, slots=True)
class _Job:
    key: str
    spec: ChartSpec
    theme: Theme
    done: asyncio.Future[RenderedChart | None]


def render_in_worker(spec: ChartSpec, theme: Theme) -> RenderedChart:
    """render_chart, imported where it runs: matplotlib loads in the workers, not in the caller's process."""
    from charts.render import render_chart

    return render_chart(spec, theme)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes, each warmed up once. Spawned, not forked: forking a process that runs threads
    (aiohttp, the default executor) can copy a held lock into the child."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker)


def _start_worker() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the desk stops its workers itself, and a worker
    # interrupted mid-read would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Lower priority: when CPUs are short, the process serving the bot should get them before charts.
    if hasattr(os, "nice"):
        os.nice(_WORKER_NICENESS)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    from charts.render import warm_up

    warm_up()


def _ready() -> None:
    """Runs in each worker at start so start() returns with the workers up."""


def _retrieve(done: asyncio.Future[RenderedChart | None]) -> None:
    # Every waiter may have timed out already; reading the exception keeps asyncio from logging it.
    if not done.cancelled():
        done.exception()


class ChartRenderer:
    """Use as `async with ChartRenderer(...) as renderer:`, then `await renderer.render(spec, theme)`.

    `executor`: a pool to render in, which the caller keeps and shuts down; by default the renderer
    starts `workers` processes itself and replaces them if one dies. `render` is the function run in
    the pool (a module-level function when the pool is a process pool). `prestart`: start the workers
    in start(), so the first chart does not wait for them; False leaves that to the first render
    (a process that may never draw a chart then never pays for the workers).
    """

    def __init__(
        self,
        *,
        cache: ChartCache,
        registry: CollectorRegistry,
        workers: int = 1,
        max_pending: int = 32,
        timeout_seconds: float = 3.0,
        executor: Executor | None = None,
        render: RenderFunction = render_in_worker,
        prestart: bool = True,
    ) -> None:
        if workers < 1 or max_pending < 1 or timeout_seconds <= 0:
            raise ValueError("workers and max_pending must be at least 1 and timeout_seconds positive")
        self._cache = cache
        self._metrics = ChartMetrics(registry)
        self._workers = workers
        self._max_pending = max_pending
        self._timeout = timeout_seconds
        self._executor = executor
        self._owns_executor = executor is None
        self._render = render
        self._prestart = prestart
        self._queue: asyncio.Queue[_Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: dict[str, asyncio.Future[RenderedChart | None]] = {}

    async def __aenter__(self) -> ChartRenderer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._queue is not None:
            raise RuntimeError("ChartRenderer already started")
        if self._owns_executor:
            self._executor = process_pool(self._workers)
        if self._prestart:
            await self._start_workers()
        queue: asyncio.Queue[_Job] = asyncio.Queue(self._max_pending)
        self._tasks = [asyncio.create_task(self._work(queue), name=f"chart-worker-{i}") for i in range(self._workers)]
        self._queue = queue

    async def _start_workers(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(*(loop.run_in_executor(self._executor, _ready) for _ in range(self._workers)))
        except BaseException:
            if self._owns_executor and self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            raise

    async def close(self) -> None:
        """Stop rendering; requests still waiting get None. Idempotent."""
        if self._queue is None:
            return
        self._queue = None
        waiting = list(self._in_flight.values())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for done in waiting:
            if not done.done():
                done.set_result(None)
        self._in_flight.clear()
        if self._owns_executor and self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def render(self, spec: ChartSpec, theme: Theme = Theme.DARK) -> ChartPhoto | None:
        """The chart, from the cache or rendered now; None when it is not ready within the timeout or the
        queue is full (send without it). Raises ChartError when the data holds nothing to draw."""
        if self._queue is None:
            raise RuntimeError("ChartRenderer is not running: use `async with` or call start()")
        key = chart_key(spec, theme)
        chart = self._cache.get(key)
        if chart is None:
            chart = await self._rendered(self._queue, key, spec, theme)
            if chart is None:
                return None
        else:
            self._metrics.cache_hits.inc()
        return ChartPhoto(key, chart.png, chart.notes, self._cache.upload_for(key))

    def remember_upload(self, key: str, file_id: str) -> None:
        """After sending a ChartPhoto's PNG, keep Telegram's file_id so later sends reuse the upload."""
        self._cache.remember_upload(key, file_id)

    def upload_for(self, key: str) -> str | None:
        """The file_id remembered for the chart `key` (since its ChartPhoto was handed out), if any."""
        return self._cache.upload_for(key)

    async def _rendered(
        self, queue: asyncio.Queue[_Job], key: str, spec: ChartSpec, theme: Theme
    ) -> RenderedChart | None:
        done = self._in_flight.get(key)
        if done is not None:  # the same chart is being rendered for someone else: share it
            self._metrics.cache_hits.inc()
        else:
            done = asyncio.get_running_loop().create_future()
            try:
                queue.put_nowait(_Job(key, spec, theme, done))
            except asyncio.QueueFull:
                self._drop("queue_full", spec, key)
                return None
            done.add_done_callback(_retrieve)
            self._in_flight[key] = done
        try:
            # Shielded: one caller giving up must not cancel the render others wait for (or the cache wants).
            return await asyncio.wait_for(asyncio.shield(done), self._timeout)
        except TimeoutError:
            self._drop("timeout", spec, key)
            return None

    async def _work(self, queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await queue.get()
            executor = self._executor
            started = time.perf_counter()
            try:
                chart = await loop.run_in_executor(executor, self._render, job.spec, job.theme)
            except ChartError as error:
                job.done.set_exception(error)
            except Exception as error:  # a dead worker or a bug: the message goes out without the chart
                log.exception("chart_render_failed kind=%s key=%s", job.spec.kind, job.key[:12])
                self._metrics.dropped.labels("error").inc()
                if isinstance(error, BrokenExecutor) and executor is self._executor:
                    self._replace_pool()
                job.done.set_result(None)
            else:
                self._metrics.render_seconds.labels(job.spec.kind).observe(time.perf_counter() - started)
                self._metrics.rendered.labels(job.spec.kind).inc()
                self._cache.put(job.key, chart)
                job.done.set_result(chart)
            finally:
                self._in_flight.pop(job.key, None)

    def _replace_pool(self) -> None:
        if not self._owns_executor or self._executor is None:
            return  # a pool the caller passed in is the caller's to fix
        broken, self._executor = self._executor, process_pool(self._workers)
        broken.shutdown(wait=False, cancel_futures=True)
        log.warning("chart_pool_replaced workers=%d", self._workers)

    def _drop(self, reason: str, spec: ChartSpec, key: str) -> None:
        self._metrics.dropped.labels(reason).inc()
        log.warning("chart_dropped reason=%s kind=%s key=%s", reason, spec.kind, key[:12])


def _exit_when_orphaned(parent: int) -> None:
    """A worker whose desk was killed (SIGKILL, OOM) would wait on its task queue forever: it holds that
    queue's pipe open itself, so it never sees end-of-file. It checks its parent instead."""
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(0)
