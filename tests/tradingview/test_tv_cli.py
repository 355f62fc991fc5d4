"""`signaldesk tradingview new-token` and `template`: a printed template, filled in as TradingView fills
it, is accepted by the endpoint."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.tradingview_cli import MESSAGE_HEADER, TOKEN_MARKER
from tests.conftest import Api
from tests.support import rfc3339
from tests.tradingview.tv_alerts import BAR_TIME, TOKEN, send_like_tradingview, sha256, tv_settings

PUBLIC_URL = "https://desk.example.com/"
# What TradingView puts in for each placeholder on an OANDA:XAUUSD chart, for a long entry.
FILLED = {
    "exchange": "OANDA",
    "ticker": "XAUUSD",
    "strategy.order.action": "buy",
    "strategy.market_position": "long",
    "close": "2400.5",
    "plot_0": "2390.25",
    "plot_1": "2420.75",
    "plot_3": "2385",
    "plot_4": "2430.5",
    "time": BAR_TIME,
    "interval": "60",
}


def write_config(tmp_path: Path, *, digest: str = sha256(TOKEN), public_url: str = PUBLIC_URL) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[tradingview]\npublic_url = "{public_url}"\n'
        f'[[producers]]\nid = "alpha"\ntradingview_token_sha256 = ["{digest}"]\n'
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def template_parts(out: str) -> tuple[str, str]:
    """The webhook URL and the message, as a user copies them from the output."""
    lines = out.splitlines()
    url = lines[lines.index("# Webhook URL (alert → Notifications → Webhook URL):") + 1]
    message = "\n".join(lines[lines.index(MESSAGE_HEADER) + 1 :])
    return url, message


def fill_like_tradingview(message: str, now: str, values: dict[str, str] = FILLED) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return now if name == "timenow" else values[name]  # KeyError: a placeholder TradingView lacks here

    return re.sub(r"\{\{([a-z_.0-9]+)\}\}", value, message)


def test_new_token_prints_a_strong_token_and_its_digest_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tradingview", "new-token", "--producer-id", "alpha")
    assert code == 0
    token = re.search(r"^token=(\S+)$", out, re.M).group(1)  # type: ignore[union-attr]
    digest = re.search(r'^tradingview_token_sha256 = \["([0-9a-f]{64})"\]$', out, re.M).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits
    assert hashlib.sha256(token.encode()).hexdigest() == digest
    assert 'id = "alpha"' in out
    _, again, _ = run(capsys, "tradingview", "new-token", "--producer-id", "alpha")
    assert token not in again


@pytest.mark.parametrize(
    "options, values, expected",
    [
        ([], FILLED, ("buy", 2390.25, 2420.75)),
        (["--format", "json"], FILLED, ("buy", 2390.25, 2420.75)),
        (["--stop-plot", "3", "--target-plot", "4"], FILLED, ("buy", 2385, 2430.5)),
        (["--stop-points", "1000", "--target-points", "2500"], FILLED, ("buy", 2390.5, 2425.5)),
        (["--format", "json", "--stop-points", "1000", "--target-points", "2500"], FILLED, ("buy", 2390.5, 2425.5)),
        (["--stop-points", "1000", "--target-plot", "1"], FILLED, ("buy", 2390.5, 2420.75)),
        (["--side", "sell", "--stop-points", "1000.5", "--target-points", "2000"], FILLED, ("sell", 2410.505, 2380.5)),
        ([], {**FILLED, "strategy.order.action": "sell", "strategy.market_position": "short",
              "plot_0": "2410", "plot_1": "2380"}, ("sell", 2410, 2380)),
    ],
)
async def test_printed_template_filled_by_tradingview_is_accepted(
    api_factory: Any, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, options: list[str], values: dict[str, str], expected: tuple[Any, ...],
) -> None:
    api: Api = await api_factory(tv_settings(database_url))
    monkeypatch.setenv("TV_TOKEN", TOKEN)
    code, out, _ = run(capsys, "tradingview", "template", "--producer-id", "alpha",
                       "--config", str(write_config(tmp_path)), "--token-env", "TV_TOKEN", *options)
    assert code == 0
    url, message = template_parts(out)
    assert url == "https://desk.example.com/api/v1/tradingview/alpha"
    if "--format" in options:
        assert json.loads(message)["token"] == TOKEN  # valid JSON before filling, too
    filled = fill_like_tradingview(message, rfc3339(api.clock.now()), values)
    assert "{{" not in filled
    status, _, signal = await send_like_tradingview(api, filled)
    assert status == 201, signal
    assert (signal["instrument"], signal["side"], signal["stop_loss"], signal["take_profit"]) == ("XAUUSD", *expected)
    assert signal["time"] == BAR_TIME


async def test_template_without_token_has_a_marker_the_endpoint_refuses(
    tv_api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "tradingview", "template", "--producer-id", "alpha", "--config", str(write_config(tmp_path)))
    assert code == 0 and f"replace {TOKEN_MARKER}" in err
    _, message = template_parts(out)
    assert f"token={TOKEN_MARKER}" in message
    status, _, _ = await send_like_tradingview(tv_api, fill_like_tradingview(message, rfc3339(tv_api.clock.now())))
    assert status == 401


def test_template_refuses_a_token_that_is_not_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TV_TOKEN", "another-token-0123456789abcdef")
    code, out, err = run(capsys, "tradingview", "template", "--producer-id", "alpha",
                         "--config", str(write_config(tmp_path)), "--token-env", "TV_TOKEN")
    assert code == 1 and out == ""
    assert "matches none of producer 'alpha'" in err and "another-token" not in err


def test_template_for_an_unknown_producer_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tradingview", "template", "--producer-id", "beta", "--config", str(write_config(tmp_path)))
    assert code == 1 and "producer 'beta' is not configured" in err


def test_template_without_public_url_warns_and_prints_the_listener(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "tradingview", "template", "--producer-id", "alpha",
                         "--config", str(write_config(tmp_path, public_url="")))
    assert code == 0 and "tradingview.public_url is not set" in err
    assert template_parts(out)[0] == "http://127.0.0.1:8080/api/v1/tradingview/alpha"


@pytest.mark.parametrize(
    "options",
    [["--stop-points", "10", "--stop-plot", "0"], ["--stop-plot", "20"], ["--target-points", "-5"], ["--format", "xml"]],
)
def test_template_option_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["tradingview", "template", "--producer-id", "alpha", "--config", str(write_config(tmp_path)), *options])
    assert exited.value.code == 2


def test_bad_digest_in_config_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tradingview", "template", "--producer-id", "alpha",
                       "--config", str(write_config(tmp_path, digest="not-a-digest")))
    assert code == 2
    assert "producers.0.tradingview_token_sha256: every entry must be a SHA-256 hex digest" in err
