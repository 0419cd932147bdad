"""The test suite's own rule: a server test skips when its server is down, except in CI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

DEAD = "postgresql+psycopg://nobody@127.0.0.1:1/none"


class TestServerURL:
    def test_down_server_skips_with_its_reason(
        self, monkeypatch: pytest.MonkeyPatch, server_url: Callable[[str], str]
    ) -> None:
        """Outside CI a test whose server does not answer is skipped, saying why."""
        monkeypatch.setenv("E2BADGES_TEST_POSTGRESQL_URL", DEAD)
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match=r"postgresql server .* does not answer"):
            server_url("postgresql")

    def test_down_server_fails_in_ci(
        self, monkeypatch: pytest.MonkeyPatch, server_url: Callable[[str], str]
    ) -> None:
        """Under CI=true a test whose server does not answer fails instead of skipping."""
        monkeypatch.setenv("E2BADGES_TEST_POSTGRESQL_URL", DEAD)
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="under CI=true server tests must run"):
            server_url("postgresql")
