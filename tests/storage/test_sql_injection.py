"""No value reaches the text of a SQL statement: hostile input stays in bound parameters.

The table prefix is the one name the store puts into statement text; it is
checked strictly.  Statement text is built once, from the schema, in the
statement classes' ``__init__``: the source rules below keep it that way, and a
run of the hostile corpus checks the statements actually sent.
"""

from __future__ import annotations

import ast
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sql_support import Database
from sqlalchemy import event, inspect

from e2badges import (
    Activity,
    Badge,
    ConfigurationError,
    FrozenClock,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    StoryOptions,
    TeamsScope,
    criteria,
)
from e2badges.storage._sql_schema import check_prefix
from e2badges.storage.sqlalchemy import SQLAlchemyStore, schema_version, upgrade
from e2badges.testing._hostile_conformance import REDIS_COMMAND, accepted_identifiers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORAGE = Path(__file__).parents[2] / "src" / "e2badges" / "storage"

HOSTILE_PREFIXES: list[object] = [
    "e2b_\n",
    "e2b_; DROP TABLE e2b_activities; --",
    'e2b"_',
    "e2b`_",
    "e2b'_",
    "e2b]_",
    "E2B_",
    "1ab_",
    "_ab",
    "a b_",
    "é_",
    "e2b_\x00",
    "e2b_\u202e",
    "a" * 25,
    None,
    b"e2b_",
    5,
]


class TestTablePrefix:
    @pytest.mark.parametrize("prefix", HOSTILE_PREFIXES, ids=repr)
    def test_hostile_prefix_refused(self, prefix: Any, tmp_path: Path) -> None:
        """A table prefix other than lower-case letters, digits and '_' is refused everywhere."""
        url = f"sqlite:///{tmp_path / 'db'}"
        with pytest.raises(ConfigurationError, match="table_prefix"):
            check_prefix(prefix)
        with pytest.raises(ConfigurationError, match="table_prefix"):
            SQLAlchemyStore(url, table_prefix=prefix)
        with pytest.raises(ConfigurationError, match="table_prefix"):
            upgrade(url, table_prefix=prefix)
        with pytest.raises(ConfigurationError, match="table_prefix"):
            schema_version(url, table_prefix=prefix)
        assert not (tmp_path / "db").exists()

    @pytest.mark.parametrize("prefix", ["", "e2b_", "a" * 24, "t0_", "x"])
    def test_plain_prefix_accepted(self, prefix: str) -> None:
        """Up to 24 lower-case letters, digits and '_', starting with a letter, make a prefix."""
        assert check_prefix(prefix) == prefix


class TestStatementText:
    def test_hostile_values_only_in_parameters(self, db: Database) -> None:
        """Every value of the hostile corpus reaches the database as a parameter, never as SQL.

        Each hostile identifier carries a marker; every statement the store sends
        while recording and answering every query is captured, and none holds it.
        """
        marker = "mk" + uuid.uuid4().hex[:12]
        corpus = [
            x + marker
            for x in accepted_identifiers(db.prefix)
            if len(x) + len(marker) <= 256 and "🦄" * 2 not in x
        ]
        store = db.store()
        tables = _tables(store, db.prefix)
        assert len(tables) >= 12
        sent: list[tuple[str, str]] = []

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, repr(parameters)))

        event.listen(store.engine, "before_cursor_execute", seen)
        kind = f"post{marker}.created"
        rewards = Rewards(
            store,
            rules=[PointRule(id="post", kind=kind, actor_points=1, recipient_points=2)],
            badges=[
                Badge(id="first", criterion=criteria.Count(kind=kind), threshold=1),
                Badge(id="helper", criterion=criteria.Manual()),
            ],
            leaderboards=[
                Leaderboard(id="points", metric=PointsMetric(), windows=("all", "week", "7d")),
                Leaderboard(id="teams", metric=PointsMetric(), scope=TeamsScope()),
            ],
            stories=StoryOptions(leaders=("points",), milestones=(kind,), milestone_counts=(2,)),
            clock=FrozenClock(T0 + timedelta(days=8)),
        )
        rewards.record_many(
            [
                Activity(
                    id=x,
                    actor=x,
                    kind=kind,
                    object=x,
                    recipient=corpus[n - 1],
                    teams=(x,),
                    attributes={x: x, "redis": REDIS_COMMAND + marker},
                    at=T0 + timedelta(minutes=n),
                )
                for n, x in enumerate(corpus)
            ]
        )
        board = rewards.leaderboard("points")
        for x in corpus:
            rewards.grant(x, "helper", by=x, reason=x)
            rewards.revoke(x, "helper", by=x, reason=x)
            rewards.balance(x, x)
            rewards.explain(x)
            rewards.activity(x)
            rewards.outcome(x)
            rewards.badges(x)
            rewards.level(x)
            rewards.profile(x)
            board.rank(x, window="week", period="2026-W10")
            board.around(x, 2)
            board.percentile(x, window="7d", viewer=x)
            rewards.feed(scope=f"team:{x}", viewer=x)
            rewards.set_leaderboard_opt_out(x)
            rewards.leaderboard_opt_out(x)
            rewards.set_leaderboard_opt_out(x, False)
            rewards.adoption(team=x, window="week", period="2026-W10")
            rewards.newcomers(team=x, week="2026-W10")
        rewards.leaderboard("teams").top(100)
        rewards.close_periods()

        assert len(sent) > 100
        assert any(marker in parameters for _, parameters in sent)
        assert [statement for statement, _ in sent if marker in statement] == []
        assert _tables(store, db.prefix) == tables
        assert store.count_activities() == len(corpus) * 3
        assert rewards.balance(corpus[0]) == 1 + 2


def _tables(store: SQLAlchemyStore, prefix: str) -> set[str]:
    """Return this test's tables (other tests share the server)."""
    return {n for n in inspect(store.engine).get_table_names() if n.startswith(prefix)}


# SQL keywords that mark a string as statement text.
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|DROP|FROM|WHERE|VALUES|JOIN|SET|LIMIT)\b")
# The parameters a statement-building __init__ may take: the schema, never a value.
_SCHEMA_PARAMETERS = {"self", "tables", "dialect", "prefix"}


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(STORAGE.rglob("*.py"))]


def _literal(node: ast.AST) -> str:
    """Return the constant text parts of a string expression (f-string, constant, + chain)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) + _literal(node.right)
    return ""


def _builds_sql(node: ast.AST) -> bool:
    """Return whether ``node`` interpolates something into text that holds SQL keywords."""
    if isinstance(node, ast.JoinedStr):
        interpolates = any(isinstance(v, ast.FormattedValue) for v in node.values)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        interpolates = True
    else:
        return False
    return interpolates and bool(_SQL.search(_literal(node)))


class _Scope(ast.NodeVisitor):
    """Collect SQL text built outside a schema-only ``__init__``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.functions: list[ast.FunctionDef] = []
        self.found: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    def _allowed(self) -> bool:
        if not self.functions:
            return True  # module level: constants
        function = self.functions[-1]
        names = {a.arg for a in function.args.args + function.args.kwonlyargs}
        return function.name == "__init__" and names <= _SCHEMA_PARAMETERS

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.JoinedStr | ast.BinOp) and _builds_sql(node):
            if not self._allowed():
                where = self.functions[-1].name
                self.found.append(f"{self.path.name}:{node.lineno} in {where}()")
            return  # the parts of an f-string are not separate statements
        super().generic_visit(node)


class TestSourceRules:
    def test_sql_text_built_only_from_the_schema(self) -> None:
        """SQL text with interpolations is built only in __init__(self, tables, dialect, prefix).

        There no value exists yet: what is interpolated can only come from the
        validated prefix, the schema's names (quoted) and constants.
        """
        found: list[str] = []
        for path, tree in _sources():
            scope = _Scope(path)
            scope.visit(tree)
            found.extend(scope.found)
        assert found == []

    def test_statement_arguments(self) -> None:
        """Statements are passed as literals or prebuilt attributes; text() takes literals only.

        ``str.format`` may fill in placeholder lists only: its arguments name
        no variable except inside ``len()``.
        """
        found: list[str] = []
        for path, tree in _sources():
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not isinstance(
                    node.func, ast.Attribute | ast.Name
                ):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                first = node.args[0] if node.args else None
                where = f"{path.name}:{node.lineno}"
                if name == "text" and not (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)
                ):
                    found.append(f"{where}: text() of a non-literal")
                if name == "exec_driver_sql" and isinstance(first, ast.JoinedStr | ast.BinOp):
                    found.append(f"{where}: exec_driver_sql() of text built in place")
                if name == "format" and isinstance(node.func, ast.Attribute):
                    free = {
                        n.id
                        for arg in node.args
                        for n in ast.walk(arg)
                        if isinstance(n, ast.Name) and not _inside_len(arg, n)
                    }
                    if free:
                        found.append(f"{where}: format() of {sorted(free)}")
        assert found == []


def _inside_len(tree: ast.AST, target: ast.Name) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "len"
            and any(n is target for n in ast.walk(node))
        ):
            return True
    return False
