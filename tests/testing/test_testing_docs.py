"""The examples in docs/testing.md pass when run as a project's tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


class TestTestingDocs:
    def test_examples_pass(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each Python example, written to the file its first line names, passes."""
        blocks = re.findall(r"^```python\n# (\S+)\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
        assert [name for name, _ in blocks] == [
            "conftest.py",
            "test_rules.py",
            "test_properties.py",
        ]
        for name, code in blocks:
            (pytester.path / name).write_text(code)
        # Fewer examples than hypothesis's default 100 keep this test fast; the code is the docs'.
        with (pytester.path / "conftest.py").open("a") as conftest:
            conftest.write("\nfrom hypothesis import settings\n")
            conftest.write("settings.register_profile('docs', max_examples=20, deadline=None)\n")
            conftest.write("settings.load_profile('docs')\n")
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        # In a subprocess: the examples' module names (test_rules, ...) are also this suite's.
        result = pytester.runpytest_subprocess(
            "-p", "e2badges.testing.pytest_plugin", "-p", "no:cacheprovider", "-p", "hypothesis"
        )
        result.assert_outcomes(passed=4)
