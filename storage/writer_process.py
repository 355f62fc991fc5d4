"""The SQLite ingest writer as a child process.

A writer thread shares the GIL with the event loop, and a thread coming back from C code (each
statement, the commit's fsync) only gets the GIL back when the loop lets go of it, which a busy loop
rarely does. So with a thread, the loop's parsing of new requests and the writer's commit take turns
instead of overlapping. A child process has an interpreter of its own: it writes and syncs a batch
while the loop parses the next one, and costs the loop one pickled message each way per batch.

The child owns one SQLite connection with the same pragmas (WAL, synchronous=FULL), writes each
batch it is sent in one transaction with the given batch writer, and answers only after the commit
returned: a request is answered only once its row is on disk, exactly as with a thread."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
import socket
import sys
import struct
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from storage.database import sqlite_pragmas

log = logging.getLogger(__name__)

# Builds, in the child, the function that writes a batch of packed items in the caller's transaction.
WriterFactory = Callable[[], Callable[[Connection, Sequence[Any]], Sequence[Any]]]
Pack = Callable[[Any], Any]  # an item as something cheaper to pickle, which the writer unpacks
_HEADER = struct.Struct("!I")  # each message: its length, then a pickle


class WriterProcessFailed(OSError):
    """The writer process could not write the batch (it could not reach the database, or it died)."""

    def __init__(self, detail: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(detail)
        self.outcome_unknown = outcome_unknown  # it died mid-batch: the commit may have happened


class WriterProcessBug(RuntimeError):
    """The batch writer raised something unexpected; the child's traceback is the message."""


class SqliteWriterProcess:
    """Writes batches in a child process, in the order sent; `write` answers with one outcome per item."""

    # A second batch waits in the socket while the first is written: the child starts it the moment
    # the first commit returns, without waiting for the busy loop to read the answer.
    depth = 2

    def __init__(self, url: str, writer: WriterFactory, pack: Pack = lambda item: item) -> None:
        self._url = url
        self._writer = writer
        self._pack = pack
        self._context = _context()
        self._process: Any = None
        self._channel: _Channel | None = None
        self._pending: deque[asyncio.Future[Sequence[Any]]] = deque()  # sent, answered in order

    def start(self) -> None:
        """Start the child now rather than on the first write (which retries if this fails)."""
        try:
            self._start()
        except OSError:
            self._stop(WriterProcessFailed("the writer process could not be started", outcome_unknown=True))

    def write(self, items: Sequence[Any]) -> asyncio.Future[Sequence[Any]]:
        future: asyncio.Future[Sequence[Any]] = asyncio.get_running_loop().create_future()
        try:
            channel = self._channel or self._start()  # a dead child is noticed by its socket closing
            channel.send(pickle.dumps([self._pack(item) for item in items], pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError) as exc:
            # This batch never reached a writer; those sent before it may have been committed.
            self._stop(WriterProcessFailed(f"the writer process stopped: {exc}", outcome_unknown=True))
            future.set_exception(WriterProcessFailed(f"the writer process is not running: {exc}"))
            return future
        self._pending.append(future)
        return future

    async def close(self) -> None:
        process = self._process
        self._stop(WriterProcessFailed("the writer process was stopped", outcome_unknown=True))
        if process is not None:
            await asyncio.to_thread(process.join, 10)  # it exits when its socket closes
            if process.is_alive():
                process.kill()

    def _start(self) -> _Channel:
        self._stop(WriterProcessFailed("the writer process was restarted", outcome_unknown=True))
        ours, theirs = socket.socketpair()
        try:
            process = self._context.Process(
                target=_serve, args=(self._url, self._writer, theirs), name="signaldesk-sqlite-writer", daemon=True
            )
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process = process
        self._channel = _Channel(ours, self._answered, self._lost)
        return self._channel

    def _stop(self, error: Exception) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = self._process = None
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(error)

    def _answered(self, message: bytes) -> None:
        kind, value = pickle.loads(message)
        future = self._pending.popleft() if self._pending else None
        if future is None or future.done():
            return
        if kind == "ok":
            future.set_result([_decode(outcome) for outcome in value])
        elif kind == "unavailable":
            future.set_exception(WriterProcessFailed(value))
        else:
            future.set_exception(WriterProcessBug(value))

    def _lost(self) -> None:
        # The child died; the batch it was writing may or may not be committed (an idempotent retry
        # finds it). The next write starts a new child.
        self._stop(WriterProcessFailed("the writer process died", outcome_unknown=True))


class _Channel:
    """Length-prefixed messages over a socket, without ever blocking the event loop."""

    def __init__(self, sock: socket.socket, on_message: Callable[[bytes], None], on_lost: Callable[[], None]) -> None:
        self._sock = sock
        self._on_message = on_message
        self._on_lost = on_lost
        self._loop = asyncio.get_running_loop()
        self._inbox = bytearray()
        self._outbox: deque[memoryview] = deque()
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._readable)

    def send(self, payload: bytes) -> None:
        message = memoryview(_HEADER.pack(len(payload)) + payload)
        if not self._outbox:
            try:
                message = message[self._sock.send(message):]
            except BlockingIOError:
                pass
            if not message:
                return
            self._loop.add_writer(self._sock.fileno(), self._writable)
        self._outbox.append(message)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
            self._sock.close()

    def _writable(self) -> None:
        try:
            while self._outbox:
                sent = self._sock.send(self._outbox[0])
                if sent < len(self._outbox[0]):
                    self._outbox[0] = self._outbox[0][sent:]
                    return
                self._outbox.popleft()
        except BlockingIOError:
            return
        except OSError:
            self._lost()
            return
        self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        try:
            data = self._sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        inbox = self._inbox
        inbox += data
        while len(inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(inbox)
            if len(inbox) < _HEADER.size + size:
                break
            message = bytes(inbox[_HEADER.size:_HEADER.size + size])
            del inbox[:_HEADER.size + size]
            try:
                self._on_message(message)
            except Exception:  # noqa: BLE001 - an answer we cannot read: start over with a new child
                log.exception("event=writer_process_garbled")
                self._lost()
            if self._sock.fileno() < 0:  # closed by the handler
                return

    def _lost(self) -> None:
        self.close()
        self._on_lost()


def _context() -> Any:
    # forkserver: children are forked from a clean, single-threaded server that already imported
    # storage, so starting one is quick and safe. Elsewhere (Windows, macOS) spawn works, just slower.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_preload())
        return context
    return multiprocessing.get_context("spawn")


def _preload() -> list[str]:
    """What the fork server imports once, so that each child it forks need not. A child also re-runs the
    parent's main module (the program, or `python -m bot.cli`): preloaded, that costs milliseconds instead
    of the seconds that made the first signal after a start wait for its writer."""
    modules = ["__main__", "storage.signal_store"]
    main_name = getattr(sys.modules["__main__"].__spec__, "name", None)
    if main_name is not None:
        modules.append(main_name)
    return modules


def _serve(url: str, writer: WriterFactory, sock: socket.socket) -> None:
    """The child: one transaction per message, answered after its commit, until the socket closes."""
    # Ctrl-C reaches the whole process group: the parent finishes what it sent, then closes the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = create_engine(url)
    event.listen(engine, "connect", sqlite_pragmas)
    write = writer()
    stream = sock.makefile("rb")
    while header := stream.read(_HEADER.size):
        if len(header) < _HEADER.size:
            break
        items = pickle.loads(stream.read(_HEADER.unpack(header)[0]))
        try:
            with engine.begin() as conn:
                outcomes = write(conn, items)
            reply: tuple[str, Any] = ("ok", [_encode(o) for o in outcomes])
        except (SQLAlchemyError, OSError) as exc:
            reply = ("unavailable", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
        except Exception:  # noqa: BLE001 - reported to the parent, which logs it
            reply = ("bug", traceback.format_exc())
        payload = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        try:
            sock.sendall(_HEADER.pack(len(payload)) + payload)
        except OSError:
            break
    engine.dispose()


def _encode(outcome: Any) -> Any:
    # Domain errors take their fields as constructor arguments, which exception pickling does not
    # reproduce; send the class, the message and the fields instead.
    if isinstance(outcome, Exception):
        return ("exception", type(outcome), str(outcome), vars(outcome))
    return outcome


def _decode(outcome: Any) -> Any:
    if isinstance(outcome, tuple) and len(outcome) == 4 and outcome[0] == "exception":
        _, cls, message, fields = outcome
        error = cls.__new__(cls)
        error.args = (message,)
        vars(error).update(fields)
        return error
    return outcome
