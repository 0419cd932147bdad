"""The Plugins page's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def python_blocks(text: str) -> list[str]:
    """Return the page's ```python blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


class TestPluginsPage:
    @pytest.mark.hook("e2badges_add_point_rules")
    @pytest.mark.hook("e2badges_add_activity_kinds")
    @pytest.mark.hook("e2badges_check_activity")
    @pytest.mark.hook("e2badges_notify_outcome")
    def test_examples_run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every Python example of docs/plugins.md runs, in order, in one namespace."""
        for name in ("E2BADGES_RECIPROCITY_MODE", "E2BADGES_WEBHOOK_URL"):
            monkeypatch.delenv(name, raising=False)
        blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
        assert len(blocks) == 5
        namespace: dict[str, object] = {"__name__": "plugins_page"}
        for block in blocks:
            exec(compile(block, str(PAGE), "exec"), namespace)
