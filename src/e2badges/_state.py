"""The engine's view of stored state: reads fall through, writes stay in an overlay.

State is a flat mapping from string keys to JSON-safe values (numbers for
counters, flags and timestamps; lists or dicts for richer criteria).  The keys
are the engine's business; stores keep them opaque and only persist the final
value of every key a batch wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["StateView"]

_MISSING = object()
_ABSENT = object()  # loaded (or preloaded): the store has no value for the key


class StateView:
    """Read stored state through an overlay of this batch's writes.

    ``base`` holds what the store loaded (or, for the memory store, its live
    state, which the view never writes to).  When ``loader`` is given, a key that
    is neither written nor in ``base`` is loaded through it once, so a store that
    prefetches still answers keys the engine did not announce.
    """

    __slots__ = ("_base", "_loaded", "_loader", "writes")

    def __init__(
        self,
        base: Mapping[str, Any],
        loader: Callable[[Iterable[str]], Mapping[str, Any]] | None = None,
    ) -> None:
        self._base = base
        self._loader = loader
        self._loaded: dict[str, Any] = {}
        self.writes: dict[str, Any] = {}

    def get(self, key: str, default: Any = 0) -> Any:
        """Return the current value of ``key``, or ``default`` when it has none."""
        value = self.writes.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._base.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if self._loader is not None:
            value = self._loaded.get(key, _MISSING)
            if value is _MISSING:
                value = self._loaded[key] = self._loader([key]).get(key, _ABSENT)
            if value is not _ABSENT:
                return value
        return default

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` in the overlay."""
        self.writes[key] = value

    def add(self, key: str, amount: float) -> None:
        """Add ``amount`` to the number stored under ``key`` (0 when absent)."""
        self.writes[key] = self.get(key) + amount

    def preload(self, values: Mapping[str, Any], keys: Iterable[str]) -> None:
        """Record ``values`` loaded for ``keys``; requested keys without a value stay absent."""
        if self._loader is None:
            return
        for key in keys:
            self._loaded[key] = values.get(key, _ABSENT)
