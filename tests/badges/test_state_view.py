"""The StateView's loader, as the prefetching stores use it with Engine.keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from e2badges._state import StateView


class TestPreload:
    def test_preloaded_absent_key_not_loaded_again(self) -> None:
        """A key preloaded without a value reads as absent without calling the loader."""
        calls: list[list[str]] = []

        def load(keys: Iterable[str]) -> dict[str, Any]:
            calls.append(list(keys))
            return {}

        view = StateView({}, load)
        view.preload({}, ["k"])
        assert view.get("k", "absent") == "absent"
        assert calls == []

    def test_unlisted_key_loaded_once(self) -> None:
        """A key not preloaded is loaded on first read, once."""
        calls: list[list[str]] = []

        def load(keys: Iterable[str]) -> dict[str, Any]:
            calls.append(list(keys))
            return {"k": 7}

        view = StateView({}, load)
        assert (view.get("k"), view.get("k")) == (7, 7)
        assert calls == [["k"]]
