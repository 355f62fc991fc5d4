"""`signaldesk audit verify` on a real chain of decisions, and after a row is edited in the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.emulator import BotApiEmulator
from storage.database import create_engine
from tests.processes import run_cli
from tests.conftest import Api
from tests.telegram.conftest import TRADERS, card_for, current, post_signal


async def _verify(database_url: str) -> tuple[int, str]:
    result = await asyncio.to_thread(run_cli, "audit", "verify", env={"SIGNALDESK_DATABASE__URL": database_url})
    return result.returncode, result.stdout + result.stderr


async def test_audit_verify_passes_then_names_the_edited_entry(desk: Api, emulator: BotApiEmulator, database_url: str) -> None:
    for n, action in enumerate(("Approve", "Reject", "Approve")):
        signal = await post_signal(desk, external_id=f"audit-{n}", version=n + 1)
        card = await card_for(emulator, TRADERS[n % 2], signal)
        await emulator.wait_for_answer(emulator.press(TRADERS[n % 2], card.message_id, button=action))
        await emulator.wait_until(lambda card=card: current(emulator, card).edits == 1)

    code, out = await _verify(database_url)
    assert code == 0 and "audit chain OK: 3 entries" in out, out

    engine = create_engine(database_url)
    async with engine.begin() as conn:  # someone rewrites history: trader 222's reject becomes an approve
        data = (await conn.execute(text("SELECT data FROM audit_log WHERE seq = 2"))).scalar_one()
        forged = data.replace('"reject"', '"approve"') if isinstance(data, str) else __import__("json").dumps({**data, "decision": "approve"})
        await conn.execute(text("UPDATE audit_log SET data = :d WHERE seq = 2"), {"d": forged})
    await engine.dispose()

    code, out = await _verify(database_url)
    assert code == 1
    assert "audit chain BROKEN at entry #2: content does not match its hash" in out, out
