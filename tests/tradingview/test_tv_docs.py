"""docs/producers.md stays true: every refusal type is explained, every [tradingview] key is described,
and the printed template shown there is what the CLI prints."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import TradingViewSettings
from bot.tradingview_cli import MESSAGE_HEADER, alert_message
from core.errors import AuthReason
from core.tradingview import AlertAuthReason

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "producers.md").read_text()
EDGE_TYPES = (
    "malformed-body", "bad-idempotency-key", "address-not-allowed", "not-found", "http-error", "duplicate-signal",
    "idempotency-key-reused", "payload-too-large", "unsupported-media-type", "invalid-signal", "invalid-query",
    "rate-limited", "storage-unavailable",
)


def _reasons(holder: type) -> set[str]:
    return {v.replace("_", "-") for k, v in vars(holder).items() if k.isupper()}


def test_every_problem_type_is_in_the_error_table() -> None:
    table = {m.group(1) for m in re.finditer(r"^\| \d{3} \| `/problems/([a-z-]+)`", DOC, re.M)}
    assert _reasons(AuthReason) | _reasons(AlertAuthReason) | set(EDGE_TYPES) <= table


def test_every_tradingview_key_is_described() -> None:
    for key in TradingViewSettings.model_fields:
        assert f"`{key}`" in DOC or f"{key} =" in DOC, key
    assert "tradingview_token_sha256" in DOC


def test_the_template_shown_is_what_the_cli_prints() -> None:
    shown = DOC[DOC.index(MESSAGE_HEADER) + len(MESSAGE_HEADER) :].split("```")[0].strip()
    token = re.match(r"token=(\S+)", shown).group(1)  # type: ignore[union-attr]
    assert shown == alert_message(token)


def test_readme_points_here() -> None:
    assert "(docs/producers.md)" in (ROOT / "README.md").read_text()
