"""Shared fixtures: the store matrix and the rule that CI never skips a server test."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from e2badges import FrozenClock

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=60,
    derandomize=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at Monday 2026-01-05 09:00 UTC."""
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
