"""Shared fixtures: the store matrix and the rule that CI never skips a server test."""

from __future__ import annotations

import os
from collections.abc import Callable
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


# Each server test names its server; the URL comes from the environment or the default.
SERVERS = {
    "postgresql": (
        "E2BADGES_TEST_POSTGRESQL_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "mysql": ("E2BADGES_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
_probed: dict[str, str | None] = {}


def in_ci() -> bool:
    """Return whether the tests run under CI=true, where no server test may skip."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _probe(url: str) -> str | None:
    """Return None if the database at ``url`` answers, else the reason it does not."""
    from sqlalchemy import create_engine, text

    backend = url.split(":", 1)[0].split("+", 1)[0]
    timeout = {"connect_timeout": 3}
    engine = create_engine(url, connect_args=timeout if backend != "sqlite" else {})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "does not answer"; the reason is shown
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def server_url_for(name: str) -> str:
    """Return the test URL of server ``name``, or skip the test (fail it under CI=true)."""
    variable, default = SERVERS[name]
    url = os.environ.get(variable, default)
    if url not in _probed:
        _probed[url] = _probe(url)
    reason = _probed[url]
    if reason is not None:
        _skip_or_fail(f"the {name} server ({variable}) does not answer: {reason}")
    return url


def _skip_or_fail(message: str) -> None:
    """Skip the test with ``message``, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{message}; under CI=true server tests must run, not skip")
    pytest.skip(message)


@pytest.fixture(scope="session")
def server_url() -> Callable[[str], str]:
    """Return ``server_url(name)``: a live server's URL, or a skip (a failure in CI)."""
    return server_url_for


@pytest.fixture(scope="session")
def server_has() -> Callable[[bool, str], None]:
    """Return ``server_has(present, what)``: nothing if the server has ``what``, else a
    skip naming it (a failure in CI)."""

    def need(present: bool, what: str) -> None:
        if not present:
            _skip_or_fail(f"the server has no {what}")

    return need
