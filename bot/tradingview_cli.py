"""`signaldesk tradingview ...`: make an alert token, and print the alert message and webhook URL to paste
into TradingView."""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.config import ProducerSettings, Settings, load_settings
from core.tradingview import new_token, token_digest, token_matches

MAX_PLOT = 19  # TradingView exposes {{plot_0}} to {{plot_19}}
TOKEN_MARKER = "PASTE-YOUR-TOKEN-HERE"
MESSAGE_HEADER = "# Alert message (paste everything below this line into the alert's Message box):"


def add_tradingview_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tv = sub.add_parser("tradingview", help="TradingView alerts as producers: tokens and alert templates.")
    commands = tv.add_subparsers(title="tradingview commands", metavar="COMMAND")

    token = commands.add_parser(
        "new-token", help="Print a fresh alert token (once) and the digest line for the producer's config."
    )
    token.add_argument("--producer-id", required=True)
    token.set_defaults(run=_new_token)

    template = commands.add_parser(
        "template", help="Print the webhook URL and the alert message to paste into TradingView.",
        description="Print the webhook URL and the alert message to paste into TradingView. Stop and target "
                    "come from indicator plots ({{plot_N}}, default plots 0 and 1) or fixed distances in the "
                    "instrument's points.",
    )
    template.add_argument("--producer-id", required=True)
    template.add_argument("--config", type=Path, metavar="PATH",
                          help="TOML configuration (default: ./config.toml when present)")
    template.add_argument("--format", choices=["text", "json"], default="text",
                          help="message as key=value lines (default; robust to empty plots) or JSON")
    template.add_argument("--side", choices=["buy", "sell"],
                          help="for an indicator alert that always means one side; default: the strategy's "
                               "{{strategy.order.action}}, and {{strategy.market_position}} to skip exits")
    template.add_argument("--token-env", metavar="VAR",
                          help="environment variable holding the token to put in the message (checked against "
                               f"the config); default: a {TOKEN_MARKER} marker to replace by hand")
    stop = template.add_mutually_exclusive_group()
    stop.add_argument("--stop-points", type=_points, metavar="N", help="stop N points from the close")
    stop.add_argument("--stop-plot", type=_plot, metavar="N", help="stop price from {{plot_N}}")
    target = template.add_mutually_exclusive_group()
    target.add_argument("--target-points", type=_points, metavar="N", help="target N points from the close")
    target.add_argument("--target-plot", type=_plot, metavar="N", help="target price from {{plot_N}}")
    template.set_defaults(run=_template)


def alert_message(
    token: str,
    *,
    message_format: str = "text",
    side: str | None = None,
    stop_points: Decimal | None = None,
    stop_plot: int | None = None,
    target_points: Decimal | None = None,
    target_plot: int | None = None,
) -> str:
    """The alert message, with TradingView placeholders, that the endpoint understands."""
    fields: dict[str, str] = {"token": token, "ticker": "{{exchange}}:{{ticker}}"}
    if side:
        fields["action"] = side
    else:
        fields["action"] = "{{strategy.order.action}}"
        fields["position"] = "{{strategy.market_position}}"
    fields["price"] = "{{close}}"
    for name, points, plot, default_plot in (
        ("stop", stop_points, stop_plot, 0), ("target", target_points, target_plot, 1),
    ):
        if points is not None:
            fields[f"{name}_points"] = format(points, "f")
        else:
            fields[name] = f"{{{{plot_{default_plot if plot is None else plot}}}}}"
    fields |= {"time": "{{time}}", "timenow": "{{timenow}}", "interval": "{{interval}}"}
    if message_format == "json":
        # Every value quoted: a placeholder TradingView prints as NaN still leaves valid JSON.
        return json.dumps(fields, indent=2)
    return "\n".join(f"{key}={value}" for key, value in fields.items())


def webhook_url(settings: Settings, producer_id: str) -> str:
    base = settings.tradingview.public_url or f"http://{settings.http.host}:{settings.http.port}"
    return f"{base.rstrip('/')}/api/v1/tradingview/{producer_id}"


def _template(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    producer = next((p for p in settings.producers if p.id == args.producer_id), None)
    if producer is None:
        return _fail(f"producer {args.producer_id!r} is not configured; add a [[producers]] block with "
                     "tradingview_token_sha256 (see `signaldesk tradingview new-token`)")
    token = _token(args.token_env, producer)
    if token is None:
        return 1
    if not producer.tradingview_token_sha256:
        _warn(f"producer {producer.id!r} has no tradingview_token_sha256 yet: alerts will be refused (401) until it has")
    if not settings.tradingview.public_url:
        _warn("tradingview.public_url is not set: TradingView needs the desk's public https:// address "
              "(ports 443 or 80 only); the URL below is the local listener")
    message = alert_message(
        token, message_format=args.format, side=args.side,
        stop_points=args.stop_points, stop_plot=args.stop_plot,
        target_points=args.target_points, target_plot=args.target_plot,
    )
    print("# Webhook URL (alert → Notifications → Webhook URL):")
    print(webhook_url(settings, producer.id))
    print(MESSAGE_HEADER)
    print(message)
    return 0


def _token(variable: str | None, producer: ProducerSettings) -> str | None:
    if variable is None:
        _warn(f"replace {TOKEN_MARKER} in the message with the producer's token (or pass --token-env VAR)")
        return TOKEN_MARKER
    token = os.environ.get(variable, "")
    if not token:
        _fail(f"environment variable {variable} is empty or not set (it must hold the alert token)")
        return None
    if not token_matches(producer.tradingview_token_sha256, token):
        _fail(f"the token in {variable} matches none of producer {producer.id!r}'s tradingview_token_sha256")
        return None
    return token


def _new_token(args: argparse.Namespace) -> int:
    token = new_token()
    print("# The token, shown only now. It goes into the alert message; keep it secret.")
    print(f"token={token}")
    print(f"# Its digest, for the [[producers]] block with id = {json.dumps(args.producer_id)} in config.toml.")
    print("# While rotating, list the old digest too, and remove it once every alert uses the new token.")
    print(f'tradingview_token_sha256 = ["{token_digest(token)}"]')
    return 0


def _points(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError("must be a number greater than 0")
    return value


def _plot(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_PLOT:
        raise argparse.ArgumentTypeError(f"must be a plot number from 0 to {MAX_PLOT}")
    return int(text)


def _warn(message: str) -> None:
    print(f"signaldesk: note: {message}", file=sys.stderr)


def _fail(message: str) -> int:
    print(f"signaldesk: {message}", file=sys.stderr)
    return 1
