"""The README's demo runs on the embedded SQLite store, and running it again changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_runs_twice_with_the_same_figures(tmp_path: Path) -> None:
    """The demo prints points, a profile and a ledger; a second run records nothing twice."""
    first = subprocess.run(
        [sys.executable, str(DEMO)], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    second = subprocess.run(
        [sys.executable, str(DEMO)], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert (tmp_path / "e2badges-demo.db").exists()
    for heading in ("Points", "Profile: chloe", "Ledger: chloe"):
        assert heading in first
    assert second == first
