"""The examples on the badge and level pages run, and their assertions hold."""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path

import pytest

from e2badges import criteria

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", ["badges.md", "levels.md"])
def test_page_examples_run(page: str) -> None:
    """Every python block of the page runs, in order, in one namespace."""
    blocks = BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, f"{page}", "exec"), namespace)  # our own pages, run as tests


def test_example_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/badges.py runs and prints the profile it computes."""
    runpy.run_path(str(ROOT / "examples" / "badges.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "ann earned answerer (bronze)" in out
    assert "answerer silver: 5 of 10" in out


CRITERION_ROW = re.compile(r"^\| `(\w+)\((.*?)\)`", re.MULTILINE)


def test_criteria_table_shows_the_defaults() -> None:
    """In the criteria table of badges.md, an option written ``name=<literal>`` is that
    option's default, and one written ``name=N`` (a placeholder) has no default."""
    rows = CRITERION_ROW.findall((DOCS / "badges.md").read_text(encoding="utf-8"))
    assert rows
    for name, arguments in rows:
        fields = getattr(criteria, name).model_fields
        for argument in arguments.split(", "):
            option, _, shown = argument.partition("=")
            if not shown or shown == "...":
                continue
            if shown.isidentifier():
                assert fields[option].is_required(), f"{name}({argument}): has a default"
            else:
                assert fields[option].default == ast.literal_eval(shown), f"{name}({argument})"
