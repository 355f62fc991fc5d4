"""charts/ stays pure rendering: no Telegram, HTTP, database or scheduler imports, and never pyplot."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import charts

FORBIDDEN = {"aiogram", "aiohttp", "sqlalchemy", "apscheduler", "bot", "storage"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_charts_imports_no_io_layers_and_no_pyplot():
    sources = sorted(Path(charts.__file__).parent.glob("*.py"))
    assert len(sources) > 5
    for source in sources:
        modules = imported_modules(source)
        assert not {m for m in modules if m.split(".")[0] in FORBIDDEN}, source.name
        assert "matplotlib.pyplot" not in modules, source.name


def test_the_bots_process_does_not_load_matplotlib():
    # The bot describes and caches charts; only the worker processes draw them, so only they pay for
    # matplotlib's import time and memory.
    probe = "import sys, bot.app, charts; print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
