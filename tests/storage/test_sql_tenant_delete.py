"""Deleting a tenant from the SQL store is all or nothing.

A failure injected at the n-th DELETE (one per table) must roll back the deletions
before it: every tenant, the one being deleted included, then answers exactly as
before.
"""

from __future__ import annotations

from typing import Any

import pytest
from sql_support import Database
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from e2badges import StorageError
from e2badges.testing._tenant_conformance import _FULL_WORKLOAD, _Tenant


class TestDeleteTenantIsAtomic:
    @pytest.mark.parametrize("fail_at", [1, 8, 16], ids=["first", "middle", "last"])
    def test_failure_midway_deletes_nothing(self, db: Database, fail_at: int) -> None:
        """A database error at any DELETE of delete_tenant() raises StorageError and leaves
        every tenant's data in place, the deleted tenant's included."""
        store = db.store()
        assert len(store.tables.all) - 1 == 16  # one DELETE per table but meta
        tenants = [_Tenant(store, "gone"), _Tenant(store, "kept")]
        for step in _FULL_WORKLOAD:
            for tenant in tenants:
                tenant.run(step)
        for tenant in tenants:
            tenant.answers()  # delivers the notifications: the answers below deliver none
        before = [tenant.answers() for tenant in tenants]
        deletes = 0

        def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            nonlocal deletes
            if statement.lstrip().upper().startswith("DELETE"):
                deletes += 1
                if deletes == fail_at:
                    raise sa_exc.OperationalError(statement, None, RuntimeError("injected"))

        event.listen(store.engine, "before_cursor_execute", fail)
        try:
            with pytest.raises(StorageError, match="deleting a tenant"):
                tenants[0].rewards.store.delete_tenant()
        finally:
            event.remove(store.engine, "before_cursor_execute", fail)
        assert deletes == fail_at
        assert store.tenants() == ["gone", "kept"]
        assert [tenant.answers() for tenant in tenants] == before
        tenants[0].rewards.store.delete_tenant()
        assert store.tenants() == ["kept"]
