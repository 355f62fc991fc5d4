"""The tour's terminal output: the chats as the people would read them, the producers' requests, the market,
and a progress bar while it plays. Pure presentation: it is told what happened and prints it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bot.demo.cast import Person
from bot.emulator.model import SentMessage

_ENTITY_STYLES = {"bold": "bold", "italic": "italic", "underline": "underline", "code": "bold", "pre": "bold"}
_INDENT = 2


class Transcript:
    """Prints the tour. `progress()` shows a bar (on a terminal) that `scene()` moves on."""

    def __init__(self, console: Console, people: Sequence[Person] = ()) -> None:
        self.console = console
        self._people = {p.user_id: p for p in people}
        self._cards: dict[str, int] = {}  # the text of each message with buttons, and who got it first
        self._progress: Progress | None = None
        self._task: Any = None

    @contextmanager
    def progress(self, scenes: int) -> Iterator[None]:
        bar = Progress(
            TextColumn("[bold]Tour[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
            TimeElapsedColumn(), console=self.console, transient=True,
        )
        self._progress, self._task = bar, bar.add_task("starting", total=scenes)
        with bar:
            yield
        self._progress = None

    def heading(self, title: str, paragraphs: Sequence[str]) -> None:
        self.console.print(Panel(Text("\n\n".join(paragraphs)), title=Text(title, style="bold"), title_align="left"))

    def scene(self, at: datetime, title: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=f"{at:%H:%M} {title}")
        self.console.print()
        self.console.rule(Text.assemble((f"{at:%a %d %b %H:%M} UTC", "bold"), "  ", title), align="left")

    def narrate(self, text: str) -> None:
        self._line(Text(text, style="italic"))

    def detail(self, text: str) -> None:
        self._line(Text(text, style="dim"))

    def request(self, who: str, what: str, answer: str, *, ok: bool) -> None:
        """A producer's HTTP request and the desk's answer."""
        self._line(Text.assemble((who, "bold green"), " ⇢ ", what))
        self._line(Text.assemble(" " * len(who), " ⇠ ", (answer, "green" if ok else "bold red")))

    def market(self, text: str) -> None:
        self._line(Text.assemble(("market", "bold blue"), " ", text))

    def says(self, user: int, text: str) -> None:
        self._line(Text.assemble(self._name(user), " ▸ ", text))

    def presses(self, user: int, button: str, message: SentMessage) -> None:
        self._line(Text.assemble(self._name(user), " ▸ presses ", (f"[{button}]", "bold"), f" on {_about(message)}"))

    def popup(self, user: int, text: str | None) -> None:
        self._line(Text.assemble(("SignalDesk", "bold"), " ▸ ", self._name(user), (f"  (pop-up) {text or ''}", "italic")))

    def message(self, message: SentMessage, photo: Path | None = None) -> None:
        """A message the bot sent, as a bubble in the recipient's chat. A card already shown in another chat is
        told in one line: everyone gets the same card."""
        buttons = [b.text for row in message.buttons for b in row]
        first = self._cards.setdefault(message.text or "", message.chat_id) if buttons else message.chat_id
        if first != message.chat_id:
            self._line(Text.assemble(
                ("SignalDesk → ", "bold"), self._name(message.chat_id), f" · #{message.message_id}: the same card  ",
                ("  ".join(f"[{b}]" for b in buttons), "bold"),
            ))
            return
        parts: list[RenderableType] = [styled(message.text or "", message.entities)]
        if buttons:
            parts.append(Text("  ".join(f"[{b}]" for b in buttons), style="bold"))
        if photo is not None:
            parts.insert(0, Text(f"🖼  chart: {_shown(photo)}", style="italic"))
        person = self._people.get(message.chat_id)
        title = Text.assemble(("SignalDesk → ", "bold"), self._name(message.chat_id), f" · #{message.message_id}")
        bubble = Panel(Group(*parts), title=title, title_align="left", expand=False, border_style=person.style if person else "white")
        self.console.print(Padding(bubble, (0, 0, 0, _INDENT + 2), expand=False))

    def edited(self, before: SentMessage, after: SentMessage) -> None:
        old = set((before.text or "").splitlines())
        changed = [line for line in (after.text or "").splitlines() if line not in old] or ["(new buttons)"]
        if before.buttons and not after.buttons:
            changed.append("[buttons removed]")
        self._line(Text.assemble(("✎ ", "bold"), self._name(after.chat_id), f"'s {_about(after)} now reads: ", " ".join(changed)))

    def done(self, lines: Sequence[str], commands: Sequence[str] = ()) -> None:
        """The closing words; `commands` are printed unwrapped, to be copied into a shell."""
        self.console.print()
        self.console.print(Panel(Text("\n".join(lines)), title=Text("Done", style="bold green"), title_align="left"))
        for command in commands:
            self.console.print(Text(command, style="bold" if not command.startswith("#") else "italic"), soft_wrap=True)

    def _name(self, user: int) -> Text:
        person = self._people.get(user)
        return Text(person.name, style=f"bold {person.style}") if person else Text(f"user {user}", style="bold")

    def _line(self, text: Text) -> None:
        self.console.print(Padding(text, (0, 0, 0, _INDENT), expand=False))


def styled(text: str, entities: Sequence[dict[str, Any]]) -> Text:
    """Telegram text with its bold, italic and code entities (offsets in UTF-16 units) as terminal styles."""
    shown = Text(text)
    offsets = _utf16_offsets(text)
    for entity in entities:
        style = _ENTITY_STYLES.get(entity.get("type", ""))
        start, end = entity.get("offset", 0), entity.get("offset", 0) + entity.get("length", 0)
        if style and 0 <= start < end < len(offsets):
            shown.stylize(style, offsets[start], offsets[end])
    return shown


def _utf16_offsets(text: str) -> list[int]:
    """For each UTF-16 offset, the index of the character there (one past the end included)."""
    indexes: list[int] = []
    for index, char in enumerate(text):
        indexes.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    indexes.append(len(text))
    return indexes


def _about(message: SentMessage) -> str:
    first = (message.text or "").splitlines()[0] if message.text else ""
    return f"#{message.message_id} ({first[:40]})" if first else f"#{message.message_id}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
