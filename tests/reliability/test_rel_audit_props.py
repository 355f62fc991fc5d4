"""The audit chain by property: for any chain, any single edit of one entry (its event, data, time,
sequence number, link or hash; a removal; a swap with its neighbour; or a rewrite that recomputes the
entry's own hash) is detected, and the break is reported at the entry where the chain stops holding."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.audit import GENESIS_HASH, AuditEntry, entry_hash, verify_chain
from tests.support import START

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
contents = st.tuples(st.sampled_from(["decision", "order_placed", "drawdown_reset"]), st.dictionaries(st.text(max_size=5), json_values, max_size=4))


def chain(items: list[tuple[str, dict]]) -> list[AuditEntry]:
    entries, previous = [], GENESIS_HASH
    for seq, (event, data) in enumerate(items, start=1):
        at = START + timedelta(seconds=seq)
        digest = entry_hash(seq, at, event, data, previous)
        entries.append(AuditEntry(seq, at, event, data, previous, digest))
        previous = digest
    return entries


@given(items=st.lists(contents, min_size=1, max_size=12))
def test_an_untouched_chain_verifies(items: list[tuple[str, dict]]) -> None:
    assert verify_chain(chain(items)) == (len(items), None)


EDITS = ["event", "data", "at", "seq", "prev_hash", "hash"]


@given(items=st.lists(contents, min_size=1, max_size=12), edit=st.sampled_from(EDITS), data=st.data())
def test_an_edited_field_is_found_at_that_entry(items: list[tuple[str, dict]], edit: str, data: st.DataObject) -> None:
    entries = chain(items)
    index = data.draw(st.integers(0, len(entries) - 1), label="entry")
    original = entries[index]
    value = data.draw(_other_value(edit, getattr(original, edit)), label="new value")
    entries[index] = dataclasses.replace(original, **{edit: value})
    checked, broken = verify_chain(entries)
    assert broken is not None and checked == index + 1, f"editing {edit} of entry #{index + 1} was reported at entry #{checked}"


@given(items=st.lists(contents, min_size=2, max_size=12), data=st.data())
def test_a_rewritten_entry_breaks_the_next_link(items: list[tuple[str, dict]], data: st.DataObject) -> None:
    """Rewriting an entry with a freshly computed hash fools its own check, never the next entry's link."""
    entries = chain(items)
    index = data.draw(st.integers(0, len(entries) - 2), label="entry")
    e = entries[index]
    new_data = data.draw(st.dictionaries(st.text(max_size=5), json_values, max_size=4).filter(lambda d: _canonical(d) != _canonical(e.data)), label="data")
    entries[index] = dataclasses.replace(e, data=new_data, hash=entry_hash(e.seq, e.at, e.event, new_data, e.prev_hash))
    checked, broken = verify_chain(entries)
    assert broken is not None and checked == index + 2 and "link" in broken.reason


@given(items=st.lists(contents, min_size=2, max_size=12), swap=st.booleans(), data=st.data())
def test_a_removed_or_swapped_entry_is_found_where_it_was(items: list[tuple[str, dict]], swap: bool, data: st.DataObject) -> None:
    entries = chain(items)
    index = data.draw(st.integers(0, len(entries) - 2), label="entry")
    if swap:
        entries[index], entries[index + 1] = entries[index + 1], entries[index]
    else:
        del entries[index]
    checked, broken = verify_chain(entries)
    assert broken is not None and checked == index + 1


def _other_value(edit: str, value: object) -> st.SearchStrategy:
    if edit == "event":
        return st.text(max_size=12).filter(lambda v: v != value)
    if edit == "data":
        # Compared as the hash sees it: {"a": 1} and {"a": True} are different entries.
        return st.dictionaries(st.text(max_size=5), json_values, max_size=4).filter(lambda v: _canonical(v) != _canonical(value))
    if edit == "at":
        return st.integers(-10**6, 10**6).filter(bool).map(lambda s: value + timedelta(seconds=s))  # type: ignore[operator]
    if edit == "seq":
        return st.integers(-5, 10**6).filter(lambda v: v != value)
    return st.text("0123456789abcdef", min_size=64, max_size=64).filter(lambda v: v != value)


def _canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True)
