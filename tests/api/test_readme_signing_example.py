"""The README's openssl/curl signing example, run as written against a live desk: an independent
implementation of the canonical format (shell tools, not our code) that the server must accept."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.app import open_desk, serve_http
from tests.conftest import make_settings
from tests.support import PRODUCER_ID, SECRET

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_signing_block() -> str:
    text = README.read_text()
    match = re.search(r"<!-- signing-example:.*?-->\n```bash\n(.*?)```", text, re.S)
    assert match, "the README lost its marked signing example"
    return match.group(1)


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")
async def test_readme_curl_example_is_accepted(tmp_path: Path) -> None:
    # The shell uses the real clock, so the desk does too (no injected clock here).
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'readme.db'}")
    async with open_desk(settings) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
        env: dict[str, Any] = {**os.environ, "URL": url, "PRODUCER": PRODUCER_ID, "SECRET": SECRET}
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", readme_signing_block(), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    created = json.loads(out)
    assert created["status"] == "new" and created["instrument"] == "XAUUSD", created
