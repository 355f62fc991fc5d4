"""Logging set-up: one line per event, key=value text or JSON, each with the request and signal it belongs to,
and never a secret: configured secrets, bot tokens, signatures and URL passwords are masked before any
handler writes the record."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import Settings
from core.log_context import REQUEST_ID, SIGNAL_ID

MASK = "***"
# Shorter configured values are not masked by value: masking every "abc" would garble the log. Config
# requires 16 bytes of the secrets that matter; the shapes below catch tokens and signatures regardless.
MIN_MASKED_CHARS = 8
_SHAPES = (
    # A Telegram bot token (<bot id>:<35 characters>), as in https://api.telegram.org/bot<TOKEN>/method.
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), "<bot-token>"),
    # A base64 HMAC-SHA256, the shape of an X-Signature.
    (re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}="), "<signature>"),
    # The password of a URL such as postgresql://user:password@host/db.
    (re.compile(r"(://[^:/@\s]*):[^@/\s]+@"), rf"\1:{MASK}@"),
)
_CONTEXT = (("request_id", REQUEST_ID), ("signal_id", SIGNAL_ID))
_PLAIN = logging.Formatter()


class LogContext(logging.Filter):
    """Stamps each record with the ids of the request and signal being worked on (core/log_context.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT:
            setattr(record, name, var.get())
        return True


class SecretRedactor(logging.Filter):
    """Rewrites a record's message, traceback and stack with every secret masked, for all handlers after it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = sorted({s for s in secrets if len(s) >= MIN_MASKED_CHARS}, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def redact(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(MASK, text)
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break logging (nor leak its arguments)
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_ids(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return " ".join([super().formatMessage(record), *(f"{k}={v}" for k, v in _ids(record).items())])


def _ids(record: logging.LogRecord) -> dict[str, str]:
    return {name: value for name, _ in _CONTEXT if (value := getattr(record, name, None))}


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value in the configuration, for SecretRedactor."""
    token = settings.telegram.token.get_secret_value()
    values = [
        token, token.partition(":")[2], settings.telegram.webhook_secret, settings.broker.mt5.password,
        *(secret for producer in settings.producers for secret in producer.secrets),
        *(target.secret for target in settings.forward),
    ]
    try:
        values.append(make_url(settings.database.url).password or "")
    except ArgumentError:
        pass  # not a URL: nothing to take a password from
    return [v if isinstance(v, str) else v.get_secret_value() for v in values]


def log_filters(settings: Settings | None = None) -> tuple[logging.Filter, ...]:
    """The filters every handler of the desk's log carries: ids in, secrets out."""
    return LogContext(), SecretRedactor(configured_secrets(settings) if settings else ())


def configure_logging(
    level: str = "INFO", fmt: str = "text", *, settings: Settings | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Send the root log to `stream` (stderr) as text or JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    for log_filter in log_filters(settings):
        handler.addFilter(log_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log duplicates our request events at high volume.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at INFO: the execution sweep alone would be a line per 2 s.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: noise that would drown the desk's own lines.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    return handler
