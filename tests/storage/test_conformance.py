"""Run the Store conformance suite over every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sql_support import ALL_BACKENDS, open_database

from e2badges import Person
from e2badges.storage import MemoryStore, Store
from e2badges.testing.conformance import StoreConformance

# The model test's examples and steps per backend, chosen to keep it to about 10 s on
# each server: the SQL store's code is shared by the dialects, so SQLite, the fastest,
# runs the most; the memory store against itself only checks that it is deterministic.
MODEL_RUNS = {"memory": (3, 10), "sqlite": (20, 12), "postgresql": (5, 10), "mysql": (5, 10)}
# The second, smaller machine's (two tenants, so about twice the cost of a step): about
# 15 s over all backends, keeping the model tests within about 45 s.
MODEL_VARIANT_RUNS = {"memory": (1, 10), "sqlite": (6, 12), "postgresql": (2, 10), "mysql": (2, 10)}


class TestStore(StoreConformance):
    @pytest.fixture
    def model_settings(self, request: pytest.FixtureRequest) -> settings:
        examples, steps = MODEL_RUNS[request.node.callspec.params["make_store"]]
        return settings(max_examples=examples, stateful_step_count=steps, deadline=None)

    @pytest.fixture
    def model_variant_settings(self, request: pytest.FixtureRequest) -> settings:
        examples, steps = MODEL_VARIANT_RUNS[request.node.callspec.params["make_store"]]
        return settings(max_examples=examples, stateful_step_count=steps, deadline=None)

    @pytest.fixture(params=ALL_BACKENDS)
    def make_store(
        self,
        request: pytest.FixtureRequest,
        tmp_path: Path,
        server_url: Callable[[str], str],
    ) -> Iterator[Callable[[], Store]]:
        if request.param == "memory":
            shared = MemoryStore()
            yield lambda: shared
            return
        database = open_database(request.param, tmp_path, server_url)
        yield database.store
        database.drop()

    def test_store_keeps_an_outbox(self, store: Store) -> None:
        """The built-in stores keep an outbox, so the suite's outbox tests run on them."""
        assert store.keeps_outbox


class _DefaultAroundStore(MemoryStore):
    """The memory store with the Store contract's default ``board_around``.

    Third-party stores that implement only ``board_standing`` and ``board_page``
    inherit that default; running the whole suite over it checks the default
    against the same expectations as the built-in stores' own implementations.
    """

    board_around = Store.board_around


class TestDefaultBoardAround(StoreConformance):
    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        shared = _DefaultAroundStore()
        assert type(shared).board_around is Store.board_around
        return lambda: shared


class _DefaultPersonStore(MemoryStore):
    """The memory store with the Store contract's default ``update_person_and_exclusions``
    (two steps: the record, then the exclusions)."""

    update_person_and_exclusions = Store.update_person_and_exclusions


def test_default_person_update_stores_nothing_when_exclusions_fail() -> None:
    """The contract's default update_person_and_exclusions, which third-party stores
    inherit, stores neither the record nor the exclusions when ``exclusions`` raises."""
    store = _DefaultPersonStore()
    first = store.update_person_and_exclusions(
        "ann", lambda old: Person("ann", "Ann", groups=("managers",)), lambda new: ["staff"]
    )

    def refuse(new: Person) -> list[str]:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        store.update_person_and_exclusions("ann", lambda old: Person("ann", "Bo"), refuse)
    assert store.get_people(["ann"])["ann"] == first
    assert store.board_exclusions("ann") == frozenset({"staff"})
