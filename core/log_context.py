"""Which request and which signal the running code works for, so that every log line on their path says so.

Context variables: concurrent requests and tasks each see their own ids. bot/logs.py adds them to every
record; the HTTP and Telegram edges open a request scope, the services a signal scope around one signal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
SIGNAL_ID: ContextVar[str | None] = ContextVar("signal_id", default=None)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """One request (an HTTP call, a Telegram update): its id for the block, and no signal yet.

    aiohttp serves a keep-alive connection's requests in one task, so ids must end with the request."""
    request_token, signal_token = REQUEST_ID.set(request_id), SIGNAL_ID.set(None)
    try:
        yield
    finally:
        SIGNAL_ID.reset(signal_token)
        REQUEST_ID.reset(request_token)


@contextmanager
def signal_scope(signal_id: str | None) -> Iterator[None]:
    """Work on one signal; None leaves the current ids as they are."""
    if signal_id is None:
        yield
        return
    token = SIGNAL_ID.set(signal_id)
    try:
        yield
    finally:
        SIGNAL_ID.reset(token)
