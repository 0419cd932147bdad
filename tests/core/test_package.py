"""The package's public surface: every exported name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

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
