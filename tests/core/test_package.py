"""The package's public surface: every exported name resolves, importing is cheap, and
the extras install what their modules need."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import e2badges


class TestPublicNames:
    def test_every_exported_name_resolves(self) -> None:
        """Every name in e2badges.__all__ is an attribute of the package."""
        missing = [name for name in e2badges.__all__ if getattr(e2badges, name, None) is None]
        assert missing == []

    def test_unknown_name(self) -> None:
        """An unknown attribute raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="NoSuchThing"):
            e2badges.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


class TestImportCost:
    def test_import_loads_no_heavy_dependency(self) -> None:
        """import e2badges and its pytest plugin load neither pydantic nor SQLAlchemy."""
        code = (
            "import sys, e2badges, e2badges.testing.pytest_plugin\n"
            "print(sorted(m for m in ('pydantic', 'sqlalchemy') if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "[]"


class TestExtras:
    def test_testing_extra_installs_what_the_suite_needs(self) -> None:
        """The ``testing`` extra installs pytest and hypothesis, which the conformance
        suite imports; the ``hypothesis`` extra (for the strategies) stays, and ``dev``
        includes ``testing``."""
        pyproject = Path(__file__).parents[2] / "pyproject.toml"
        extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
        names = {requirement.split(">")[0].split("[")[0] for requirement in extras["testing"]}
        assert names == {"pytest", "hypothesis"}
        assert [r.split(">")[0] for r in extras["hypothesis"]] == ["hypothesis"]
        assert any("testing" in r for r in extras["dev"] if r.startswith("e2badges["))

    @pytest.mark.parametrize("hidden", ["pytest", "hypothesis"])
    def test_conformance_without_its_dependencies_names_the_extra(self, hidden: str) -> None:
        """Importing the conformance suite without pytest or hypothesis raises
        MissingDependencyError (an ImportError) naming the module and the ``testing``
        extra."""
        code = (
            f"import sys; sys.modules[{hidden!r}] = None\n"
            "from e2badges import MissingDependencyError\n"
            "try:\n"
            "    import e2badges.testing.conformance\n"
            "except MissingDependencyError as exc:\n"
            "    print(isinstance(exc, ImportError), exc)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == (
            f'True {hidden} is not installed; install it with: pip install "e2badges[testing]"'
        )
