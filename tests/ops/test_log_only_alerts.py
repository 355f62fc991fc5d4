"""Without Telegram, ops alerts are logged, gated the same way."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.support import SignedHeaders, signal_body


async def test_without_telegram_a_burst_of_bad_signatures_is_logged_once(
    api_factory: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signaldesk.ops_alerts")
    api = await api_factory(make_settings(database_url, alerts={"auth_failures": 2}))
    for _ in range(4):  # two bursts within the window: the second is suppressed
        status, _, _ = await api.post_signal(signal_body(), signer=SignedHeaders(secret="not-the-secret-at-all"))
        assert status == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "signaldesk.ops_alerts"]
    sent = [line for line in lines if line.startswith("event=ops_alert kind=auth_failures")]
    assert len(sent) == 1 and "subject='producer alpha'" in sent[0]
    assert sum(line.startswith("event=ops_alert_suppressed kind=auth_failures") for line in lines) == 1
