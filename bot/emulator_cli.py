"""`signaldesk emulator say/press`: talk to the bot of a running demo (`signaldesk demo --keep-running`)
through the Bot API emulator's control API, as one of its users, and print what the bot answered."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo.cast import EMULATOR_URL, FOLDER

if TYPE_CHECKING:
    from bot.demo.remote import Remote



def add_emulator_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    emulator = sub.add_parser(
        "emulator", help="Talk to the bot of `signaldesk demo --keep-running` as one of its users.",
    )
    commands = emulator.add_subparsers(title="emulator commands", metavar="COMMAND")

    say = commands.add_parser("say", help="Send a message (e.g. /status) as a user and print the bot's answer.")
    say.add_argument("user", type=int, help="Telegram user id (the demo's: Alice 1001, Bob 1002, Olga 1003)")
    say.add_argument("text", nargs="+", help="what the user writes, e.g. /positions")
    say.set_defaults(run=_say)

    press = commands.add_parser("press", help="Press a button under one of the bot's messages and print what follows.")
    press.add_argument("user", type=int, help="Telegram user id (the chat the message is in)")
    press.add_argument("message_id", type=int, help="the message's id (shown as #N after the recipient's name)")
    press.add_argument("button", help="the button's label, e.g. Approve")
    press.set_defaults(run=_press)

    show = commands.add_parser("show", help="Print the last messages the bot sent to a user (with their ids, for press).")
    show.add_argument("user", type=int, help="Telegram user id")
    show.add_argument("--last", type=int, default=3, metavar="N", help="how many (default 3)")
    show.set_defaults(run=_show)

    for command in (say, press, show):
        command.add_argument("--url", default=EMULATOR_URL, help=f"the emulator's address (default {EMULATOR_URL})")
        command.add_argument("--out", type=Path, default=FOLDER, metavar="DIR",
                             help=f"where photos (charts) the bot sent are saved (default ./{FOLDER})")


def _say(args: argparse.Namespace) -> int:
    from bot.demo.remote import say

    return _run(args, lambda remote: say(remote, args.user, " ".join(args.text)))


def _press(args: argparse.Namespace) -> int:
    from bot.demo.remote import press

    return _run(args, lambda remote: press(remote, args.user, args.message_id, args.button))


def _show(args: argparse.Namespace) -> int:
    from bot.demo.remote import show

    return _run(args, lambda remote: show(remote, args.user, args.last))


def _run(args: argparse.Namespace, action: Callable[[Remote], Awaitable[None]]) -> int:
    import aiohttp

    from bot.demo.remote import EmulatorError, remote_chat

    async def run() -> None:
        async with remote_chat(args.url, args.out) as remote:
            await action(remote)

    try:
        asyncio.run(run())
    except EmulatorError as exc:
        return _fail(str(exc))
    except (aiohttp.ClientConnectionError, TimeoutError):
        return _fail(f"no Bot API emulator answers at {args.url}; start one with `signaldesk demo --keep-running`")
    return 0


def _fail(message: str) -> int:
    print(f"signaldesk: {message}", file=sys.stderr)
    return 1
