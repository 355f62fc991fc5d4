from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.tradingview.tv_alerts import tv_settings


@pytest.fixture
async def tv_api(api_factory: Any, database_url: str) -> Api:
    """A desk with TradingView tokens for alpha and beta, reached from loopback (allowed)."""
    return await api_factory(tv_settings(database_url))
