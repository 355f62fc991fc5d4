"""The `signaldesk` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigError, Settings, load_settings
from bot.demo.cast import FOLDER as DEMO_FOLDER, KEPT_API_PORT, KEPT_EMULATOR_PORT
from bot.logs import configure_logging
from bot.emulator_cli import add_emulator_commands
from bot.tradingview_cli import add_tradingview_commands

EXIT_CONFIG = 2
T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except DatabaseUnreachable as exc:
        return _fail(str(exc))
    except ConfigError as exc:
        print("signaldesk: invalid configuration:", file=sys.stderr)
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signaldesk",
        description="Telegram-first trading signal desk: signed producer API, approvals in Telegram, execution.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, help_text: str, run: Any, *, config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", type=Path, metavar="PATH",
                           help="TOML configuration (default: ./config.toml when present); "
                                "SIGNALDESK_<SECTION>__<KEY> environment variables override it")
        p.set_defaults(run=run)
        return p

    command("serve", "Run the desk: the producer HTTP API (until SIGINT/SIGTERM).", _serve)
    demo = command("demo", "The offline tour: the whole desk in a minute, no token, no network.", _demo, config=False)
    demo.add_argument("--keep-running", action="store_true",
                      help="after the tour, leave the desk and the Bot API emulator up until Ctrl-C "
                           "(talk to it with `signaldesk emulator say/press`)")
    demo.add_argument("--port", type=int, help=f"port of the producer API (default: a free one; {KEPT_API_PORT} with --keep-running)")
    demo.add_argument("--emulator-port", type=int,
                      help=f"port of the Bot API emulator (default: a free one; {KEPT_EMULATOR_PORT} with --keep-running)")
    demo.add_argument("--out", type=Path, default=DEMO_FOLDER, metavar="DIR",
                      help=f"where the charts the bot sent and the desk's log are written (default ./{DEMO_FOLDER})")

    config = sub.add_parser("config", help="Inspect configuration.").add_subparsers(title="config commands", metavar="COMMAND")
    check = config.add_parser("check", help="Validate the configuration and print it with secrets redacted (exit 2 when invalid).")
    check.add_argument("--config", type=Path, metavar="PATH")
    check.set_defaults(run=_config_check)

    db = sub.add_parser("db", help="Database schema.").add_subparsers(title="db commands", metavar="COMMAND")
    upgrade = db.add_parser("upgrade", help="Apply the schema migrations to database.url.")
    upgrade.add_argument("--config", type=Path, metavar="PATH")
    upgrade.set_defaults(run=_db_upgrade)

    audit = sub.add_parser("audit", help="The tamper-evident audit trail.").add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit.add_parser("verify", help="Check every link of the audit chain; exit 1 at the first broken entry.")
    verify.add_argument("--config", type=Path, metavar="PATH")
    verify.set_defaults(run=_audit_verify)

    send = command("send-signal", "Send one signed signal to a SignalDesk API and print the result.", _send_signal, config=False)
    _producer_arguments(send)
    send.add_argument("--instrument", required=True)
    send.add_argument("--side", required=True, choices=["buy", "sell"])
    send.add_argument("--price", required=True)
    send.add_argument("--stop-loss", required=True)
    send.add_argument("--take-profit", required=True)
    send.add_argument("--external-id")
    send.add_argument("--time", help="signal time, RFC 3339 (default: now)")
    send.add_argument("--idempotency-key")

    quote = command("send-quote", "Push one signed quote (bid/ask) to a SignalDesk API and print the verdict.", _send_quote, config=False)
    _producer_arguments(quote)
    quote.add_argument("--instrument", required=True)
    quote.add_argument("--bid", required=True)
    quote.add_argument("--ask", required=True)
    quote.add_argument("--time", help="quote time, RFC 3339 (default: now)")

    add_tradingview_commands(sub)
    add_emulator_commands(sub)
    return parser


def _producer_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="base URL of the desk, e.g. http://127.0.0.1:8080")
    p.add_argument("--producer-id", required=True)
    p.add_argument("--secret-env", required=True, metavar="VAR",
                   help="name of the environment variable holding the producer secret (never pass secrets as arguments)")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    configure_logging(settings.log.level, settings.log.format, settings=settings)
    return settings


def _config_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    print("configuration OK", file=sys.stderr)
    return 0


def _with_database(args: argparse.Namespace, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `work` on an engine for database.url, closed afterwards; DatabaseUnreachable names the cause."""
    from storage.database import create_engine

    settings = _settings(args)

    async def run() -> T:
        engine = create_engine(settings.database.url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnreachable(f"cannot reach database.url: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None


class DatabaseUnreachable(Exception):
    pass


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage import migrate

    async def upgrade(engine: AsyncEngine) -> str | None:
        await migrate.upgrade(engine)
        return await migrate.current_revision(engine)

    print(f"database schema is at revision {_with_database(args, upgrade)}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from core.audit import verify_chain
    from storage.desk_queries import SqlDeskQueries

    entries = _with_database(args, lambda engine: SqlDeskQueries(engine).audit_chain())
    checked, broken = verify_chain(entries)
    if broken is not None:
        print(f"audit chain BROKEN at entry #{broken.seq}: {broken.reason} ({checked} entries read)")
        return 1
    print(f"audit chain OK: {checked} entries, every link verified")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.app import SchemaOutOfDate, open_desk, serve_http
    from core.errors import BrokerError, PriceDataError

    settings = _settings(args)
    if not settings.producers:
        print("signaldesk: warning: no [[producers]] configured; every signal will be refused", file=sys.stderr)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_desk(settings) as desk, serve_http(desk.http_app, settings.http.host, settings.http.port) as url:
            print(f"signaldesk serving the producer API on {url} (Ctrl-C to stop)", file=sys.stderr)
            await stop.wait()
            print("signaldesk: shutting down", file=sys.stderr)

    try:
        asyncio.run(run())
    # PriceDataError: the [feed] csv file cannot be read; BrokerError: MT5 is missing or refused the login.
    except (SchemaOutOfDate, PriceDataError, BrokerError) as exc:
        return _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        return _fail(f"cannot start: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.run import Ports, run_demo

    configure_logging("INFO")  # the desk's log goes to a file in --out: the terminal shows the conversation
    keep = args.keep_running
    ports = Ports(
        api=args.port if args.port is not None else (KEPT_API_PORT if keep else 0),
        emulator=args.emulator_port if args.emulator_port is not None else (KEPT_EMULATOR_PORT if keep else 0),
    )
    try:
        return asyncio.run(run_demo(ports=ports, folder=args.out, keep_running=keep))
    except OSError as exc:  # e.g. a port in use
        return _fail(f"cannot run the demo: {exc.strerror or exc}" + (" (pick others with --port/--emulator-port)" if keep else ""))


def _producer_secret(args: argparse.Namespace) -> str:
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        raise ProducerSecretMissing(f"environment variable {args.secret_env} is empty or not set (it must hold the producer secret)")
    return secret


class ProducerSecretMissing(Exception):
    pass


def _send_quote(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.producer_client import ProducerClient, QuoteIn
    from core.signing import parse_timestamp

    try:
        secret = _producer_secret(args)
        moment = parse_timestamp(args.time) if args.time else datetime.now(UTC)
    except ProducerSecretMissing as exc:
        return _fail(str(exc))
    except ValueError:
        return _fail(f"bad argument: --time {args.time!r} is not an RFC 3339 time with an offset, e.g. 2026-11-23T10:00:00Z")

    async def run() -> dict[str, Any]:
        async with ProducerClient(args.url, args.producer_id, secret) as client:
            return await client.send_quotes([QuoteIn(args.instrument, args.bid, args.ask, moment)])

    return _print_answer(run)


def _send_signal(args: argparse.Namespace) -> int:
    from bot.producer_client import ProducerClient

    try:
        secret = _producer_secret(args)
    except ProducerSecretMissing as exc:
        return _fail(str(exc))

    async def run() -> dict[str, Any]:
        async with ProducerClient(args.url, args.producer_id, secret) as client:
            result = await client.send_signal(
                args.instrument, args.side, args.price, args.stop_loss, args.take_profit,
                time=args.time, external_id=args.external_id, idempotency_key=args.idempotency_key,
            )
            return {"created": result.created, "signal": result.signal}

    return _print_answer(run)


def _print_answer(run: Callable[[], Awaitable[dict[str, Any]]]) -> int:
    """Run one producer-client call; print its answer as JSON, or its problem as one line."""
    from bot.producer_client import ProducerClientError

    try:
        print(json.dumps(asyncio.run(run()), indent=2))
    except ProducerClientError as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(f"bad argument: {exc}")
    return 0


def _fail(message: str) -> int:
    print(f"signaldesk: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
