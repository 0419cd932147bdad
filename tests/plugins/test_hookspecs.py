"""The hookspecs as a contract: names, documentation, and a test for every hook."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from e2badges import hookspecs

TESTS = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name in hookspecs.__all__ if name.startswith("e2badges_"))


def covered_hooks() -> dict[str, list[str]]:
    """Return each hook named by a ``@pytest.mark.hook("...")`` in the test suite, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr == "hook"
                    and ast.unparse(deco.func.value) == "pytest.mark"
                ):
                    for arg in deco.args:
                        assert isinstance(arg, ast.Constant), f"{path}:{deco.lineno}"
                        where = f"{path.relative_to(TESTS)}::{node.name}"
                        found.setdefault(arg.value, []).append(where)
    return found


def untested(hooks: list[str], covered: dict[str, list[str]]) -> list[str]:
    """Return the hooks that no test covers."""
    return [hook for hook in hooks if hook not in covered]


class TestEveryHookIsTested:
    def test_every_hookspec_has_a_test(self) -> None:
        """Every hookspec is named by at least one test's ``@pytest.mark.hook``."""
        missing = untested(HOOKS, covered_hooks())
        assert not missing, f"hookspecs without a test marked @pytest.mark.hook(...): {missing}"

    def test_marks_name_real_hooks(self) -> None:
        """Every ``@pytest.mark.hook`` names a hookspec (a misspelt mark covers nothing)."""
        unknown = sorted(set(covered_hooks()) - set(HOOKS))
        assert not unknown, f"@pytest.mark.hook names no hookspec: {unknown}"

    def test_meta_test_sees_a_missing_hook(self) -> None:
        """A hookspec added without a test is reported as untested."""
        hooks = [*HOOKS, "e2badges_notify_nothing"]
        assert untested(hooks, covered_hooks()) == ["e2badges_notify_nothing"]


class TestHookspecs:
    def test_names(self) -> None:
        """Hooks are named ``e2badges_<verb>_<noun>`` and all are listed in ``__all__``."""
        defined = sorted(
            name
            for name, obj in vars(hookspecs).items()
            if name.startswith("e2badges_") and inspect.isfunction(obj)
        )
        assert defined == HOOKS
        for name in HOOKS:
            assert re.fullmatch(r"e2badges_(add|check|notify)_[a-z_]+", name), name

    @pytest.mark.parametrize("name", HOOKS)
    def test_documented(self, name: str) -> None:
        """Each hookspec's docstring says when it is called and how results combine."""
        doc = " ".join((inspect.getdoc(getattr(hookspecs, name)) or "").split())
        assert "Called" in doc
        assert any(
            phrase in doc
            for phrase in ("return values are ignored", "the first Refusal stops the chain")
        )

    @pytest.mark.parametrize("name", HOOKS)
    def test_typed(self, name: str) -> None:
        """Every hookspec argument and its return value are annotated."""
        signature = inspect.signature(getattr(hookspecs, name))
        assert signature.return_annotation is not inspect.Signature.empty
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, parameter

    def test_hookimpl_is_exported(self) -> None:
        """``e2badges.hookimpl`` is the marker of the ``e2badges`` project."""
        import e2badges

        assert e2badges.hookimpl is hookspecs.hookimpl
        assert hookspecs.hookimpl.project_name == "e2badges"
