"""Run the Store conformance suite over every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from e2badges.storage import MemoryStore, Store
from e2badges.testing.conformance import StoreConformance


class TestMemoryStore(StoreConformance):
    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        shared = MemoryStore()
        return lambda: shared
