"""The Store contract's default adoption queries agree with the stores' own."""

from __future__ import annotations

from e2badges.storage import MemoryStore
from e2badges.storage.base import Store
from e2badges.testing._adoption_conformance import _spread


class TestDefaults:
    def test_cohort_weeks_default(self) -> None:
        """The default cohort_weeks (built on first_active and activity_totals) agrees."""
        store = MemoryStore()
        _spread(store)
        for team in (None, "red"):
            options = {"start": "2026-01-27", "stop": "2026-02-10", "until": "2026-W14"}
            expected = store.cohort_weeks(**options, team=team)
            assert expected
            assert Store.cohort_weeks(store, **options, team=team) == expected

    def test_active_in_default(self) -> None:
        """The default active_in (built on activity_totals) agrees."""
        store = MemoryStore()
        _spread(store)
        weeks = {f"p{n}": f"2026-W{n + 5:02d}" for n in range(9)}
        for team in (None, "blue"):
            expected = store.active_in(weeks, team=team)
            assert expected
            assert Store.active_in(store, weeks, team=team) == expected
        assert Store.active_in(store, {}) == set()
