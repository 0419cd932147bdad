"""Stores, chosen by URL.

``memory://`` is built in.  ``sqlite:///path``, ``postgresql+psycopg://...`` and
``mysql+pymysql://...`` select the SQL store (a separate module, imported only
when asked for).  Third-party stores register a factory under the
``e2badges.stores`` entry-point group, named after their URL scheme.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from .._engine import EffectBatch as EffectBatch
from .._errors import UnknownStoreError
from .._leaderboards import AroundPage as AroundPage
from .._leaderboards import BoardPage as BoardPage
from .._leaderboards import BoardRow as BoardRow
from .._leaderboards import RollingBucket as RollingBucket
from .._leaderboards import ScoreFormula as ScoreFormula
from .._leaderboards import Standing as Standing
from .._leaderboards import merge_rows as merge_rows
from .._notifications import Notification as Notification
from .._notifications import OutboxEntry as OutboxEntry
from .base import Store as Store
from .base import StoreTransaction as StoreTransaction
from .memory import MemoryStore as MemoryStore

if TYPE_CHECKING:
    from .sqlalchemy import SQLAlchemyStore as SQLAlchemyStore

__all__ = [
    "AroundPage",
    "BoardPage",
    "BoardRow",
    "EffectBatch",
    "MemoryStore",
    "Notification",
    "OutboxEntry",
    "RollingBucket",
    "SQLAlchemyStore",
    "ScoreFormula",
    "Standing",
    "Store",
    "StoreTransaction",
    "merge_rows",
    "store_from_url",
]


def __getattr__(name: str) -> Any:
    # The SQL store module imports SQLAlchemy's engine machinery: load it on first use.
    if name == "SQLAlchemyStore":
        from .sqlalchemy import SQLAlchemyStore  # noqa: PLC0415  # lazy on purpose

        return SQLAlchemyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


StoreFactory = Callable[..., Store]

# Scheme (the part before "+driver") -> "module:attribute" of a factory taking (url, **options).
_BUILTIN: dict[str, str] = {
    "memory": "e2badges.storage.memory:MemoryStore.from_url",
    "sqlite": "e2badges.storage.sqlalchemy:SQLAlchemyStore.from_url",
    "postgresql": "e2badges.storage.sqlalchemy:SQLAlchemyStore.from_url",
    "mysql": "e2badges.storage.sqlalchemy:SQLAlchemyStore.from_url",
    "mariadb": "e2badges.storage.sqlalchemy:SQLAlchemyStore.from_url",
}


def _open_store(url: str, tenant: str | None) -> Store:
    """Return the store a URL names, serving ``tenant`` (None: the store's default).

    A store of e2badges' own (memory, SQL) is created for ``tenant``, so that it
    opens as that tenant's (the SQL store creates the tenant's board lock row when
    it opens).  A third-party factory need not take ``tenant``: its store is created
    as the URL says, and the caller takes ``for_tenant()`` of it.
    """
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if isinstance(url, str) else ""
    if tenant is not None and scheme in _BUILTIN:
        return store_from_url(url, tenant=tenant)
    return store_from_url(url)


def _load(target: str) -> StoreFactory:
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    factory: StoreFactory = obj
    return factory


def _schemes() -> dict[str, str]:
    found = dict(_BUILTIN)
    for ep in entry_points(group="e2badges.stores"):
        # URL schemes are case-insensitive: a store registered as "Upper" serves upper://.
        found.setdefault(ep.name.lower(), ep.value)
    return found


def store_from_url(url: str, **options: Any) -> Store:
    """Create the store a URL names, passing ``options`` to its factory.

    Raises UnknownStoreError for a scheme no store serves, and
    MissingDependencyError (naming the extra to install) when the store's driver
    is missing.
    """
    if not isinstance(url, str) or ("://" not in url and not url.startswith("memory:")):
        raise UnknownStoreError(str(url), list(_schemes()))
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    schemes = _schemes()
    target = schemes.get(scheme)
    if target is None:
        raise UnknownStoreError(url, list(schemes))
    return _load(target)(url, **options)
