"""The log's lines: text or JSON, each with the request and signal it belongs to, and secrets masked wherever
they would appear (message, arguments, traceback), also in what /status shows of recent errors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.config import Settings, load_settings
from bot.logs import configure_logging, log_filters
from bot.recent_errors import keeping_recent_errors
from core.log_context import request_scope, signal_scope
from tests.support import SECRET, independent_signature

TOKEN = "123456789:AAE-secret_part-of-the-bot-token-0123"
OTHER_TOKEN = "987654321:AAHsomebodyElsesTokenNotConfigured012"  # masked by its shape alone
DB_PASSWORD = "db-password-0123456789"
SIGNATURE = independent_signature(SECRET, "POST", "/api/v1/signals", "2026-11-23T10:00:00Z", "alpha", b"{}")


def _settings() -> Settings:
    return load_settings(
        None,
        database={"url": f"postgresql+asyncpg://desk:{DB_PASSWORD}@db.example/signaldesk"},
        telegram={"token": TOKEN},
        producers=[{"id": "alpha", "secrets": [SECRET]}],
    )


@contextmanager
def _root_log(fmt: str) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", fmt, settings=_settings(), stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def _leaky_lines() -> None:
    log = logging.getLogger("test.leaky")
    with request_scope("req-1"), signal_scope("sig-1"):
        log.info("calling https://api.telegram.org/bot%s/getUpdates", TOKEN)
        log.info("secret=%s signature=%s other=%s", SECRET, SIGNATURE, OTHER_TOKEN)
        try:
            raise ConnectionError(f"cannot reach postgresql://desk:{DB_PASSWORD}@db.example/signaldesk with {TOKEN}")
        except ConnectionError:
            log.exception("event=failed")
    log.info("outside any request")


def _assert_masked(text: str) -> None:
    for value in (TOKEN, TOKEN.partition(":")[2], OTHER_TOKEN, SECRET, DB_PASSWORD, SIGNATURE):
        assert value not in text


def test_json_lines_carry_ids_and_mask_secrets() -> None:
    with _root_log("json") as stream:
        _leaky_lines()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    _assert_masked(stream.getvalue())
    assert [(line["request_id"], line["signal_id"]) for line in lines[:3]] == [("req-1", "sig-1")] * 3
    assert "request_id" not in lines[3] and "signal_id" not in lines[3]
    assert lines[0]["msg"] == "calling https://api.telegram.org/bot***/getUpdates"
    assert lines[1]["msg"] == "secret=*** signature=<signature> other=<bot-token>"
    assert "postgresql://desk:***@db.example" in lines[2]["exc"] and lines[2]["level"] == "error"
    assert {line["logger"] for line in lines} == {"test.leaky"} and all(line["ts"].endswith("Z") for line in lines)


def test_text_lines_end_with_the_ids_and_mask_secrets() -> None:
    with _root_log("text") as stream:
        _leaky_lines()
    text = stream.getvalue()
    _assert_masked(text)
    first, *_ = text.splitlines()
    assert first.endswith("INFO test.leaky calling https://api.telegram.org/bot***/getUpdates request_id=req-1 signal_id=sig-1")
    assert text.rstrip().endswith("INFO test.leaky outside any request")


def test_recent_errors_for_status_are_masked_too() -> None:
    with keeping_recent_errors(filters=log_filters(_settings())) as recent:
        logging.getLogger("test.leaky").error("bot %s refused", TOKEN)
    [error] = recent.latest()
    assert error.message == "bot *** refused"
