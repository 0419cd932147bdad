"""The e2badges pytest plugin, run inside throwaway pytest sessions (pytester)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

import e2badges

# Imported here, before any in-process session: one that imported SQLAlchemy first would
# take it away at its end, and an import after that would not work.
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import OutboxConformance

pytest_plugins = ["pytester"]

PLUGIN = "e2badges.testing.pytest_plugin"
Run = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run pytest in ``pytester.path`` with only the e2badges plugin loaded explicitly.

    Entry-point autoloading is off, so the inner session does not depend on what
    the virtual environment has installed.
    """
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest("-p", PLUGIN, "-p", "no:cacheprovider", *args)

    return run


@pytest.fixture
def run_apart(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run pytest as ``run`` does, in a subprocess on this e2badges: for sessions that
    open SQL stores (SQLAlchemy does not survive being imported again in-process) or
    end the process."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    src = str(Path(e2badges.__file__).parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", *args)

    return run


FAKE_STORE = '''
from e2badges.storage import MemoryStore


class FakeStore(MemoryStore):
    """A memory store that remembers the URL it was made from."""

    closed = []

    def __init__(self, url):
        super().__init__()
        self.url = url

    @classmethod
    def from_url(cls, url, **options):
        return cls(url)

    def close(self):
        FakeStore.closed.append(self.url)
'''


@pytest.fixture
def fake_store(pytester: pytest.Pytester) -> None:
    """Install a ``fake://`` store through the ``e2badges.stores`` entry-point group."""
    pytester.makepyfile(fakestore=FAKE_STORE)
    info = pytester.path / "fakestore-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakestore\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[e2badges.stores]\nfake = fakestore:FakeStore.from_url\n"
    )
    pytester.syspathinsert()


class TestFixtures:
    def test_rewards_on_memory_with_frozen_clock(self, run: Run, pytester: pytest.Pytester) -> None:
        """e2badges_rewards records into a memory store, stamping the frozen clock's time."""
        pytester.makepyfile(
            """
            from datetime import UTC, datetime, timedelta

            import pytest
            from e2badges import PointRule
            from e2badges.storage import MemoryStore

            RULES = [PointRule(id="c", kind="comment.created", actor_points=2)]

            @pytest.mark.e2badges(rules=RULES)
            def test_record(e2badges_rewards, e2badges_clock):
                assert isinstance(e2badges_rewards.store, MemoryStore)
                e2badges_clock.advance(timedelta(hours=1))
                e2badges_rewards.record({"id": "a", "actor": "ann", "kind": "comment.created"})
                assert e2badges_rewards.balance("ann") == 2
                stored = e2badges_rewards.activity("a")
                assert stored.at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
            """
        )
        run().assert_outcomes(passed=1)

    def test_clock_set_and_marker_now(self, run: Run, pytester: pytest.Pytester) -> None:
        """The clock starts at the marker's ``now`` and can be set."""
        pytester.makepyfile(
            """
            from datetime import UTC, datetime

            import pytest

            NOW = datetime(2030, 6, 1, tzinfo=UTC)

            @pytest.mark.e2badges(now=NOW)
            def test_now(e2badges_clock):
                assert e2badges_clock.now() == NOW
                e2badges_clock.set(datetime(2031, 1, 1, tzinfo=UTC))
                assert e2badges_clock.now().year == 2031

            def test_default(e2badges_clock):
                assert e2badges_clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
            """
        )
        run().assert_outcomes(passed=2)

    def test_no_rules_accept_any_kind(self, run: Run, pytester: pytest.Pytester) -> None:
        """Without rules or kinds the fixture accepts any kind; with kinds it checks them."""
        pytester.makepyfile(
            """
            import pytest
            from e2badges import UnknownKindError

            def test_bare(e2badges_rewards):
                assert e2badges_rewards.record({"actor": "ann", "kind": "any.thing"}).ledger == ()

            @pytest.mark.e2badges(kinds=["page.viewed"])
            def test_declared(e2badges_rewards):
                with pytest.raises(UnknownKindError):
                    e2badges_rewards.record({"actor": "ann", "kind": "any.thing"})
            """
        )
        run().assert_outcomes(passed=2)

    def test_rules_fixture_override_and_closest_marker(
        self, run: Run, pytester: pytest.Pytester
    ) -> None:
        """Rules come from an overridden e2badges_rules; the closest marker wins over others."""
        pytester.makeconftest(
            """
            import pytest
            from e2badges import PointRule

            @pytest.fixture
            def e2badges_rules():
                return [PointRule(id="c", kind="comment.created", actor_points=5)]
            """
        )
        pytester.makepyfile(
            """
            import pytest
            from e2badges import PointRule

            pytestmark = pytest.mark.e2badges(timezone="Europe/Paris")

            def test_from_fixture(e2badges_rewards):
                e2badges_rewards.record({"actor": "ann", "kind": "comment.created"})
                assert e2badges_rewards.balance("ann") == 5
                assert e2badges_rewards.timezone.key == "Europe/Paris"

            @pytest.mark.e2badges(
                rules=[PointRule(id="c", kind="comment.created", actor_points=1)],
                timezone="Asia/Tokyo",
            )
            def test_from_marker(e2badges_rewards):
                e2badges_rewards.record({"actor": "ann", "kind": "comment.created"})
                assert e2badges_rewards.balance("ann") == 1
                assert e2badges_rewards.timezone.key == "Asia/Tokyo"
            """
        )
        run().assert_outcomes(passed=2)

    def test_each_test_gets_a_fresh_store(self, run: Run, pytester: pytest.Pytester) -> None:
        """Two tests recording the same id each see it recorded once, in their own store."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.parametrize("n", [1, 2])
            def test_fresh(e2badges_rewards, n):
                e2badges_rewards.record({"id": "same", "actor": "ann", "kind": "x.y"})
                assert e2badges_rewards.store.count_activities() == 1
            """
        )
        run().assert_outcomes(passed=2)

    def test_fresh_on_a_persistent_url(
        self, run_apart: Run, pytester: pytest.Pytester, tmp_path: Path
    ) -> None:
        """On a URL whose data outlives the test (one SQLite file for two sessions), each
        test starts empty: its store serves a tenant of its own, named from the test id,
        deleted after the test, and nothing is left in the file."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.parametrize("n", [1, 2])
            def test_fresh(e2badges_rewards, e2badges_store, n):
                assert e2badges_store.tenant.startswith("pytest-t")
                assert e2badges_rewards.activity("a1") is None
                e2badges_rewards.record({"id": "a1", "actor": "ann", "kind": "x.y"})
                assert e2badges_rewards.balance("ann") == 0
                assert e2badges_store.count_activities() == 1
            """
        )
        url = f"sqlite:///{tmp_path / 'kept.db'}"
        run_apart("--e2badges-store-url", url).assert_outcomes(passed=2)
        run_apart("--e2badges-store-url", url).assert_outcomes(passed=2)
        with SQLAlchemyStore(url) as store:
            assert store.tenants() == []

    def test_fresh_after_a_session_cut_short(
        self,
        run_apart: Run,
        pytester: pytest.Pytester,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A test whose session ended before its teardown (killed) leaves its tenant
        behind; the next run of that test still starts empty."""
        pytester.makepyfile(
            """
            import os

            def test_once(e2badges_rewards):
                assert e2badges_rewards.activity("a1") is None
                e2badges_rewards.record({"id": "a1", "actor": "ann", "kind": "x.y"})
                if os.environ.get("E2B_CUT_SHORT"):
                    os._exit(3)
            """
        )
        url = f"sqlite:///{tmp_path / 'kept.db'}"
        monkeypatch.setenv("E2B_CUT_SHORT", "1")
        assert run_apart("--e2badges-store-url", url).ret == 3
        with SQLAlchemyStore(url) as store:
            assert len(store.tenants()) == 1
        monkeypatch.delenv("E2B_CUT_SHORT")
        run_apart("--e2badges-store-url", url).assert_outcomes(passed=1)
        with SQLAlchemyStore(url) as store:
            assert store.tenants() == []

    @pytest.mark.parametrize("lacks", ["for_tenant", "delete_tenant"])
    def test_store_without_tenants_used_as_opened(
        self, run: Run, pytester: pytest.Pytester, lacks: str
    ) -> None:
        """A store that cannot serve another tenant, or cannot delete one (the Store
        contract's defaults raise NotImplementedError), is used as opened: its own
        tenant, fresh only if its URL is."""
        pytester.makepyfile(
            f"""
            from e2badges.storage import MemoryStore, Store

            class OneTenant(MemoryStore):
                {lacks} = Store.{lacks}

            def test_opened(e2badges_store):
                assert e2badges_store.tenant == "default"

            def test_fresh(e2badges_rewards):
                assert e2badges_rewards.store.count_activities() == 0
            """
        )
        pytester.makeconftest(
            """
            import pytest
            from e2badges import storage

            @pytest.fixture(autouse=True)
            def one_tenant_stores(monkeypatch):
                from test_store_without_tenants_used_as_opened import OneTenant
                monkeypatch.setattr(storage, "store_from_url", lambda url: OneTenant())
            """
        )
        run().assert_outcomes(passed=2)

    def test_unknown_marker_option(self, run: Run, pytester: pytest.Pytester) -> None:
        """A misspelt marker option errors the test, naming the option and the valid ones."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.e2badges(rule=[])
            def test_typo(e2badges_rewards):
                pass
            """
        )
        result = run()
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*pytest.mark.e2badges: rule: is not an option; use *rules*"])

    def test_marker_is_registered(self, run: Run, pytester: pytest.Pytester) -> None:
        """The marker passes --strict-markers and is listed by --markers."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.e2badges()
            def test_marked(e2badges_rewards):
                pass
            """
        )
        run("--strict-markers").assert_outcomes(passed=1)
        run("--markers").stdout.fnmatch_lines(["@pytest.mark.e2badges(rules=*"])


class TestStoreOption:
    def test_option_selects_the_store(
        self, run: Run, pytester: pytest.Pytester, fake_store: None
    ) -> None:
        """--e2badges-store-url runs the same tests on the store it names, one per test."""
        pytester.makepyfile(
            """
            import fakestore

            def test_one(e2badges_rewards, e2badges_store_url):
                assert type(e2badges_rewards.store).__name__ == "FakeStore"
                assert e2badges_rewards.store.url == e2badges_store_url
                assert e2badges_store_url.startswith("fake://db/t")

            def test_two(e2badges_store):
                assert e2badges_store.url.startswith("fake://db/t")

            def test_closed_after_each_test():
                assert len(fakestore.FakeStore.closed) == 2
                assert len(set(fakestore.FakeStore.closed)) == 2
            """
        )
        run("--e2badges-store-url", "fake://db/{test_id}").assert_outcomes(passed=3)

    def test_tmp_path_placeholder(self, run: Run, pytester: pytest.Pytester) -> None:
        """{tmp_path} becomes the test's own temporary directory."""
        pytester.makepyfile(
            """
            def test_path(e2badges_store_url, tmp_path):
                assert e2badges_store_url == f"memory://{tmp_path.as_posix()}/rewards"
            """
        )
        run("--e2badges-store-url", "memory://{tmp_path}/rewards").assert_outcomes(passed=1)

    def test_ini_setting_and_command_line(
        self, run: Run, pytester: pytest.Pytester, fake_store: None
    ) -> None:
        """The ini setting sets the URL; the command line overrides it."""
        pytester.makeini("[pytest]\ne2badges_store_url = fake://from-ini\n")
        pytester.makepyfile(
            """
            def test_url(e2badges_store_url, request):
                expected = request.config.getoption("e2badges_store_url") or "fake://from-ini"
                assert e2badges_store_url == expected
            """
        )
        run().assert_outcomes(passed=1)
        run("--e2badges-store-url", "fake://from-cli").assert_outcomes(passed=1)

    def test_unknown_scheme(self, run: Run, pytester: pytest.Pytester) -> None:
        """A URL no store serves errors each test that uses it, naming the URL."""
        pytester.makepyfile(
            """
            def test_store(e2badges_rewards):
                pass

            def test_unrelated():
                pass
            """
        )
        result = run("--e2badges-store-url", "nosuch://x")
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines(["*UnknownStoreError: store: no store for URL 'nosuch://x'*"])

    def test_header_and_help(self, run: Run, pytester: pytest.Pytester) -> None:
        """The session header names a non-default store; --help lists the option."""
        pytester.makepyfile("def test_nothing():\n    pass\n")
        run("--e2badges-store-url", "memory://?x").stdout.fnmatch_lines(
            ["e2badges store: memory://?x"]
        )
        run("--help").stdout.fnmatch_lines(["*--e2badges-store-url=URL*"])

    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            (
                "postgresql+psycopg://postgres:hunter2@127.0.0.1:5432/test",
                "postgresql+psycopg://postgres:***@127.0.0.1:5432/test",
            ),
            ("fake://me:hunter2@[::1]/x?y=1", "fake://me:***@[::1]/x?y=1"),
            ("fake://:hunter2@host/x", "fake://:***@host/x"),
            ("fake://me@host/{test_id}", "fake://me@host/{test_id}"),
        ],
    )
    def test_header_masks_the_password(
        self, run: Run, pytester: pytest.Pytester, url: str, shown: str
    ) -> None:
        """The session header shows the store URL with its password masked, as the
        SQL store's repr() does: the header ends up in CI logs."""
        pytester.makepyfile("def test_nothing():\n    pass\n")
        result = run("--e2badges-store-url", url)
        result.stdout.fnmatch_lines([f"e2badges store: {shown}"])
        assert "hunter2" not in result.stdout.str()


class TestHostProject:
    def test_no_collision_with_host_fixtures(self, run: Run, pytester: pytest.Pytester) -> None:
        """A host's own rewards, clock, store fixtures and --store-url option live beside ours."""
        pytester.makeconftest(
            """
            import pytest

            def pytest_addoption(parser):
                parser.addoption("--store-url", default="host://")

            @pytest.fixture
            def rewards():
                return "host rewards"

            @pytest.fixture
            def clock():
                return "host clock"

            @pytest.fixture
            def store(request):
                return request.config.getoption("store_url")
            """
        )
        pytester.makepyfile(
            """
            from e2badges import Rewards

            def test_both(rewards, clock, store, e2badges_rewards, e2badges_clock):
                assert (rewards, clock, store) == ("host rewards", "host clock", "host://")
                assert isinstance(e2badges_rewards, Rewards)
                assert e2badges_rewards.clock is e2badges_clock
            """
        )
        run("--store-url", "host://").assert_outcomes(passed=1)

    def test_plugin_can_be_turned_off(self, pytester: pytest.Pytester) -> None:
        """Without the plugin its fixtures are unknown (nothing leaks in by other routes)."""
        pytester.makepyfile("def test_uses(e2badges_rewards):\n    pass\n")
        result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:e2badges")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*fixture 'e2badges_rewards' not found*"])

    def test_import_is_light(self) -> None:
        """Importing the plugin loads no hypothesis, matplotlib, SQLAlchemy or simulator."""
        src = str(Path(e2badges.__file__).parents[1])
        heavy = ("hypothesis", "matplotlib", "sqlalchemy", "e2badges.simulate", "numpy")
        code = f"import sys, {PLUGIN}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
        env = {**os.environ, "PYTHONPATH": src}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"


class TestEntryPoint:
    def test_declared_in_pyproject(self) -> None:
        """pyproject.toml registers the plugin as ``e2badges`` in the pytest11 group."""
        pyproject = Path(__file__).parents[2] / "pyproject.toml"
        project = tomllib.loads(pyproject.read_text())["project"]
        assert project["entry-points"]["pytest11"] == {"e2badges": PLUGIN}


MEDDLER = '''
from e2badges import hookimpl


class Meddler:
    """An installed plugin that adds an attribute to every activity."""

    name = "meddler"

    @hookimpl
    def e2badges_check_activity(self, activity):
        extra = {**activity.attributes, "meddled": True}
        return activity.model_copy(update={"attributes": extra})
'''


def test_conformance_suite_leaves_installed_plugins_out(pytester: pytest.Pytester) -> None:
    """A plugin installed in the environment (an entry point) changes what a Rewards
    records, but not the results of the conformance suite, whose tests leave it out."""
    pytester.makepyfile(meddler=MEDDLER)
    pytester.makeconftest(
        """
        from importlib.metadata import EntryPoint

        import e2badges._plugins

        installed = EntryPoint(name="meddler", value="meddler:Meddler", group="e2badges")
        e2badges._plugins._entry_points = lambda: (installed,)
        """
    )
    pytester.makepyfile(
        test_store="""
        import pytest

        from e2badges import Rewards
        from e2badges.storage import MemoryStore
        from e2badges.testing.conformance import StoreConformance


        def test_the_plugin_is_installed():
            assert "meddler" in Rewards().plugins.names()


        class TestMemory(StoreConformance):
            @pytest.fixture
            def make_store(self):
                return MemoryStore
        """
    )
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-k", "installed or recorded_activity_is_returned"
    )
    result.assert_outcomes(passed=2)


def test_conformance_suite_passes_a_store_without_an_outbox(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a store that keeps no outbox (``keeps_outbox`` false, which the Store contract
    allows; its outbox methods are the contract's, raising NotImplementedError), the whole
    suite passes: it skips the tests about the outbox, saying why, and runs every other
    test (tenants, export, erasure, the model test) without notification plugins, which
    Rewards refuses over such a store."""
    pytester.makepyfile(
        test_store="""
        import pytest

        from e2badges.storage import MemoryStore, Store
        from e2badges.testing.conformance import StoreConformance


        class NoOutbox(MemoryStore):
            keeps_outbox = False
            claim_notifications = Store.claim_notifications
            mark_delivered = Store.mark_delivered
            mark_failed = Store.mark_failed
            release_notification = Store.release_notification
            get_notification = Store.get_notification
            notifications_about = Store.notifications_about


        class TestNoOutbox(StoreConformance):
            @pytest.fixture
            def make_store(self):
                shared = NoOutbox()
                return lambda: shared
        """
    )
    # The inner session tests this e2badges, not another one installed in the environment.
    src = str(Path(e2badges.__file__).parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "-rs")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("failed", 0), outcomes.get("errors", 0)) == (0, 0), result.stdout.str()
    skipped = {
        line.split("::")[2].split()[0]
        for line in result.stdout.lines
        if line.startswith("test_store.py::") and " SKIPPED " in line
    }
    about_the_outbox = {name for name in dir(OutboxConformance) if name.startswith("test_")}
    about_the_outbox |= {
        "test_outbox_per_tenant",
        "test_notifications_about",
        "test_notifications_about_with_ids",
        "test_export_person_outcome_notifications",
        "test_erasure_leaves_others_activity_ids_in_notifications",
        "test_export_leaves_out_others_notifications_naming_the_id",
        "test_erasure_drops_only_the_errors_of_their_notifications",
        "test_erasure_leaves_others_delivery_errors",
        "test_activity_changed_by_a_notifier_is_not_stored_changed",
        "test_notification_payload_changed_is_not_kept_changed",
    }
    assert skipped == about_the_outbox
    assert outcomes["skipped"] == len(about_the_outbox)
    assert outcomes["passed"] > 150  # tenants, export, erasure and the rest ran
    result.stdout.fnmatch_lines(["*the store keeps no outbox (keeps_outbox is false)*"])
