"""ChartCache: time to live on an injected clock, LRU size bound, and upload tokens tied to entries."""

from __future__ import annotations

import pytest

from charts import ChartCache, RenderedChart
from tests.support import FakeClock


def chart(name: str) -> RenderedChart:
    return RenderedChart(name.encode(), (f"note {name}",))


def test_entry_lives_for_the_ttl_then_expires():
    clock = FakeClock()
    cache = ChartCache(ttl_seconds=300, clock=clock.monotonic)
    cache.put("k", chart("a"))
    clock.advance(299.9)
    assert cache.get("k") == chart("a")
    clock.advance(0.1)
    assert cache.get("k") is None
    assert len(cache) == 0


def test_least_recently_used_entry_is_evicted_past_the_bound():
    cache = ChartCache(max_entries=2, clock=FakeClock().monotonic)
    cache.put("a", chart("a"))
    cache.put("b", chart("b"))
    cache.get("a")  # now "b" is the least recently used
    cache.put("c", chart("c"))
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (chart("a"), None, chart("c"))


def test_upload_token_is_kept_with_its_chart_and_expires_with_it():
    clock = FakeClock()
    cache = ChartCache(ttl_seconds=60, clock=clock.monotonic)
    cache.remember_upload("k", "ignored: nothing cached yet")
    cache.put("k", chart("a"))
    assert cache.upload_for("k") is None
    cache.remember_upload("k", "AgACAgIAAxkBAAIB")
    assert cache.upload_for("k") == "AgACAgIAAxkBAAIB"
    clock.advance(60)
    assert cache.upload_for("k") is None


def test_a_fresh_render_forgets_the_old_upload():
    cache = ChartCache(clock=FakeClock().monotonic)
    cache.put("k", chart("a"))
    cache.remember_upload("k", "old-file-id")
    cache.put("k", chart("a"))
    assert cache.upload_for("k") is None


def test_zero_ttl_turns_caching_off():
    cache = ChartCache(ttl_seconds=0, clock=FakeClock().monotonic)
    cache.put("k", chart("a"))
    assert cache.get("k") is None


@pytest.mark.parametrize("kwargs", [{"ttl_seconds": -1}, {"max_entries": 0}])
def test_nonsense_bounds_are_refused(kwargs):
    with pytest.raises(ValueError):
        ChartCache(**kwargs)
