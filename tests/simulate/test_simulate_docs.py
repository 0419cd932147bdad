"""The examples in docs/simulate.md run and hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "simulate.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.M | re.S)


class TestSimulateDocs:
    def test_examples_run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every Python example of the page runs, in order, in one namespace."""
        monkeypatch.chdir(tmp_path)
        blocks = python_blocks(DOC)
        assert len(blocks) >= 4
        namespace: dict[str, object] = {}
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)  # the docs' own code
