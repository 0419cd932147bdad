"""StateView: reads fall through to loaded state, writes stay in the overlay."""

from __future__ import annotations

from collections.abc import Iterable

from e2badges._state import StateView


class TestPreload:
    def test_preloaded_absent_key_not_loaded_again(self) -> None:
        """A key preloaded without a value reads as absent without asking the loader."""
        asked: list[list[str]] = []

        def loader(keys: Iterable[str]) -> dict[str, int]:
            asked.append(list(keys))
            return {}

        view = StateView({}, loader)
        view.preload({"a": 1}, ["a", "b"])
        assert (view.get("a"), view.get("b"), view.get("b", None)) == (1, 0, None)
        assert asked == []

    def test_unlisted_key_loaded_once(self) -> None:
        """A key not preloaded is loaded on first read, once, absent or not."""
        asked: list[list[str]] = []

        def loader(keys: Iterable[str]) -> dict[str, int]:
            keys = list(keys)
            asked.append(keys)
            return {"c": 3} if keys == ["c"] else {}

        view = StateView({}, loader)
        assert [view.get("c"), view.get("c"), view.get("d"), view.get("d")] == [3, 3, 0, 0]
        assert asked == [["c"], ["d"]]
