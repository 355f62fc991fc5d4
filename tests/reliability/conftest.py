"""Fixtures of the reliability suite: each test counts what it did in its `figures` (see figures.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.reliability.figures import PROPERTY, Figures

__all__ = ["Figures"]


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """This test's figures. They travel in its report (so they add up under pytest-xdist too)."""
    counted = Figures(tests=1)
    yield counted
    request.node.user_properties.append((PROPERTY, dataclasses.asdict(counted)))


@pytest.fixture(autouse=True)
def _counted(figures: Figures) -> None:
    """Every reliability test is counted, even one that records no figure."""
