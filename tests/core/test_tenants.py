"""Tenants on the Rewards facade and the memory store: choosing one, and what it owns.

That each store keeps tenants apart is in the Store conformance suite
(``e2badges.testing._tenant_conformance``); these tests cover the wiring.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from e2badges import Activity, ConfigurationError, PointRule, Rewards
from e2badges.storage import MemoryStore, Store, store_from_url

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMMENT = Activity(id="a1", actor="ann", kind="comment.created", at=AT)


def rules(points: int) -> list[PointRule]:
    return [PointRule(id="c", kind="comment.created", actor_points=points)]


class TestRewardsTenant:
    def test_default_tenant(self) -> None:
        """Without ``tenant``, Rewards uses the store as given, whose tenant is "default"."""
        store = MemoryStore()
        rewards = Rewards(store, rules=rules(1))
        assert rewards.store is store
        assert rewards.tenant == "default"

    def test_tenant_binds_a_view(self) -> None:
        """With ``tenant``, Rewards works on the store's view of that tenant."""
        store = MemoryStore()
        rewards = Rewards(store, rules=rules(1), tenant="wiki")
        assert rewards.tenant == "wiki"
        assert rewards.store is store.for_tenant("wiki")

    def test_same_tenant_keeps_the_store(self) -> None:
        """A ``tenant`` equal to the store's own leaves the store as given."""
        store = MemoryStore(tenant="wiki")
        assert Rewards(store, rules=rules(1), tenant="wiki").store is store

    def test_each_tenant_has_its_own_rules(self) -> None:
        """Two instances over one store, each with its tenant and rule set, credit the same
        activity by their own rules and see only their own data."""
        store = MemoryStore()
        wiki = Rewards(store, rules=rules(2), tenant="wiki")
        forum = Rewards(store, rules=rules(5), tenant="forum")
        wiki.record(COMMENT)
        forum.record(COMMENT)
        forum.record(COMMENT.model_copy(update={"id": "a2"}))
        assert (wiki.balance("ann"), forum.balance("ann")) == (2, 10)
        assert [e.activity_id for e in wiki.explain("ann")] == ["a1"]
        assert Rewards(store, rules=rules(2)).balance("ann") == 0

    def test_url_with_tenant(self) -> None:
        """A store created from a URL serves the tenant given; a store given is not closed."""
        closed: list[str] = []

        class Closing(MemoryStore):
            def close(self) -> None:
                closed.append(self.tenant)

        rewards = Rewards(Closing(), rules=rules(1), tenant="wiki")
        rewards.close()
        assert closed == []  # a store given is never closed
        with Rewards("memory://", rules=rules(1), tenant="wiki") as made:
            assert made.tenant == "wiki"
            made.record(COMMENT)
            assert made.balance("ann") == 1

    @pytest.mark.parametrize("tenant", ["", "a b", "x" * 65, "ü"])
    def test_bad_tenant_refused(self, tenant: str) -> None:
        """A bad tenant name raises ConfigurationError naming ``tenant``."""
        with pytest.raises(ConfigurationError, match=r"^Rewards: tenant: ") as raised:
            Rewards("memory://", rules=rules(1), tenant=tenant)
        assert raised.value.field == "tenant"


class TestMemoryTenants:
    def test_store_from_url_takes_a_tenant(self) -> None:
        """store_from_url("memory://", tenant=...) returns a store serving that tenant."""
        store = store_from_url("memory://", tenant="wiki")
        assert store.tenant == "wiki"
        assert store.for_tenant("default").tenant == "default"

    def test_one_store_per_tenant(self) -> None:
        """for_tenant returns the same store object for a tenant each time, from any
        tenant's store of the same memory."""
        store = MemoryStore()
        wiki = store.for_tenant("wiki")
        assert store.for_tenant("wiki") is wiki
        assert wiki.for_tenant("default") is store
        assert MemoryStore().for_tenant("wiki") is not wiki

    def test_view_keeps_the_class(self) -> None:
        """for_tenant on a MemoryStore subclass returns an instance of that subclass."""

        class Mine(MemoryStore):
            pass

        assert type(Mine().for_tenant("wiki")) is Mine

    def test_bad_tenant_at_creation(self) -> None:
        """MemoryStore(tenant=...) refuses a bad name, naming ``tenant``."""
        with pytest.raises(ConfigurationError, match=r"^MemoryStore: tenant: "):
            MemoryStore(tenant="a/b")


class TestSingleTenantStore:
    def test_default_for_tenant(self) -> None:
        """A store that does not implement tenants serves "default" and refuses others."""

        class Single(MemoryStore):
            tenant = Store.tenant
            for_tenant = Store.for_tenant  # type: ignore[assignment]  # the base default

        store = Single()
        assert store.tenant == "default"
        assert store.for_tenant("default") is store
        with pytest.raises(NotImplementedError):
            store.for_tenant("wiki")
