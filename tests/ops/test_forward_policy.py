"""Forwarding's rules on their own: the retry schedule, what each answer means, and the configuration's checks."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from core.forward_policy import Backoff, Verdict, verdict


def test_retries_wait_twice_as_long_each_time_within_ten_percent_and_never_over_two_minutes() -> None:
    backoff, rng = Backoff(), random.Random(7)
    for _ in range(50):  # many draws of the jitter
        waits = [backoff.delay(failures, rng) for failures in range(1, 12)]
        for failures, wait in enumerate(waits[:7], start=1):  # 1, 2, 4 ... 64 s
            assert 0.9 * 2 ** (failures - 1) <= wait <= 1.1 * 2 ** (failures - 1)
        assert 115.2 <= waits[7] <= 120  # 128 s +-10 %, capped
        assert waits[8:] == [120, 120, 120]


def test_a_retry_after_is_honoured_up_to_the_cap() -> None:
    rng = random.Random(1)
    assert Backoff().delay(1, rng, retry_after=30) == 30
    assert Backoff().delay(1, rng, retry_after=3600) == 120


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        (200, Verdict.DELIVERED), (201, Verdict.DELIVERED), (202, Verdict.DELIVERED),
        (409, Verdict.DELIVERED),  # the receiver has it already
        (None, Verdict.RETRY), (408, Verdict.RETRY), (429, Verdict.RETRY), (500, Verdict.RETRY), (503, Verdict.RETRY),
        (301, Verdict.REFUSED), (400, Verdict.REFUSED), (401, Verdict.REFUSED), (404, Verdict.REFUSED), (422, Verdict.REFUSED),
    ],
)
def test_what_an_answer_means(status: int | None, meaning: Verdict) -> None:
    assert verdict(status) is meaning


def _forward_errors(**target: Any) -> list[str]:
    entry = {"url": "https://desk-b.example/api/v1/signals", "producer_id": "desk-a", "secret": "forward-secret-0123456789", **target}
    with pytest.raises(ConfigError) as refused:
        load_settings(None, forward=[entry])
    return refused.value.lines


def test_a_bad_forward_target_is_refused_one_clear_line_per_key_without_echoing_its_secret() -> None:
    lines = _forward_errors(url="ftp://desk-b.example/x", secret="short-secret", events=["accepted", "closed"], retries=3)
    assert sorted(lines) == [
        "forward.0.events.1: Input should be 'accepted' or 'executed' (got 'closed')",
        "forward.0.retries: unknown key",
        "forward.0.secret: must be at least 16 bytes",
        "forward.0.url: must be an absolute http(s) URL such as https://desk-b.example/api/v1/signals (got 'ftp://desk-b.example/x')",
    ]
    assert _forward_errors(events=[]) == ['forward.0.events: list each of "accepted", "executed" at most once, and at least one']
    assert _forward_errors(producer_id="") == ["forward.0.producer_id: String should match pattern '^[A-Za-z0-9._-]{1,64}$' (got '')"]


def test_two_targets_may_not_share_a_url() -> None:
    target = {"url": "https://desk-b.example/api/v1/signals", "producer_id": "desk-a", "secret": "forward-secret-0123456789"}
    with pytest.raises(ConfigError) as refused:
        load_settings(None, forward=[target, target])
    assert refused.value.lines == ["(top level): forward targets must have different urls (a url names its delivery queue)"]
