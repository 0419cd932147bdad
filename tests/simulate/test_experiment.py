"""Repeated runs, bands over seeds, and experiments comparing two configurations."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2badges import ConfigurationError, MissingDependencyError, PointRule
from e2badges.simulate import (
    Bass,
    FeedbackLoops,
    HealthReport,
    Population,
    Simulation,
    bands,
    compare,
    run_many,
)
from e2badges.storage import MemoryStore, Store, store_from_url

SMALL = Simulation(
    population=Population(people=200, teams=2), adoption=Bass(p=0.01, q=0.15), days=60
)
VISIBLE = Simulation(
    population=SMALL.population,
    adoption=SMALL.adoption,
    days=SMALL.days,
    feedback=FeedbackLoops(leaderboards=True),
)


@pytest.fixture(scope="module")
def reports() -> tuple[HealthReport, ...]:
    return run_many(SMALL, seeds=[0, 1, 2])


class TestBands:
    def test_mean_and_quantiles(self, reports: tuple[HealthReport, ...]) -> None:
        """At each day the band holds the mean and the interpolated quantiles over the seeds."""
        values = sorted(r.organisation.adoption[60] / 200 for r in reports)
        band = bands(reports, level=0.5, label="small")
        # level 0.5: quantiles 0.25 and 0.75 of three values sit halfway between neighbours.
        assert band.mean[60] == pytest.approx(sum(values) / 3, abs=1e-6)
        assert band.low[60] == pytest.approx(values[0] + (values[1] - values[0]) / 2, abs=1e-6)
        assert band.high[60] == pytest.approx(values[1] + (values[2] - values[1]) / 2, abs=1e-6)
        assert (band.label, band.seeds, len(band.mean)) == ("small", (0, 1, 2), 61)

    def test_active_metric(self, reports: tuple[HealthReport, ...]) -> None:
        """The active metric has one point per week."""
        assert len(bands(reports, metric="active").mean) == 9

    def test_no_reports(self) -> None:
        """Bands over no reports are refused."""
        with pytest.raises(ValueError, match="reports: must not be empty"):
            bands([])

    def test_one_report_refused(self, reports: tuple[HealthReport, ...]) -> None:
        """A lone report (not a list of them) is refused, naming ``reports``."""
        with pytest.raises(ConfigurationError, match="reports: must be a list of HealthReports"):
            bands(reports[0])  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="reports: expected HealthReport, got str"):
            bands(["report"])  # type: ignore[list-item]


class TestCompare:
    def test_identical_configurations_do_not_differ(self) -> None:
        """Two identical configurations over the same seeds differ by exactly 0 (paired runs)."""
        result = compare(SMALL, SMALL, seeds=[0, 1], day=30)
        assert result.differences == (0.0, 0.0)
        assert (result.mean_difference, result.low, result.high) == (0.0, 0.0, 0.0)

    def test_visible_leaderboards_speed_adoption(self) -> None:
        """Visible leaderboards (q x 1.3) raise adoption at day 45 in these five seeded runs."""
        result = compare(SMALL, VISIBLE, seeds=range(5), day=45, labels=("hidden", "visible"))
        differences = [b - a for a, b in zip(result.a.mean, result.b.mean, strict=True)]
        assert result.mean_difference == pytest.approx(differences[45], abs=1e-5)
        assert result.mean_difference > 0
        assert result.low <= result.mean_difference <= result.high
        assert (result.a.label, result.b.label) == ("hidden", "visible")

    def test_day_out_of_range(self) -> None:
        """A comparison day past the run is refused."""
        with pytest.raises(ValueError, match="day: must be between 0 and 60"):
            compare(SMALL, SMALL, seeds=[0], day=61)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            # A string of two characters was taken as the labels 'A' and 'B'.
            ({"labels": "AB"}, "labels: must be two strings .* not str"),
            ({"labels": ("A",)}, "labels: must be two strings"),
            ({"labels": ("A", 2)}, "labels: must be two strings"),
            ({"seeds": 5}, "seeds: must be a collection of ints .* not int"),
            ({"seeds": "12"}, "seeds: must be a collection of ints .* not str"),
            ({"seeds": [1.5]}, "seeds: must be ints, got 1.5"),
            ({"rules": "post"}, "rules: must be a list of PointRules"),
        ],
    )
    def test_list_arguments_checked(self, options: dict[str, object], message: str) -> None:
        """compare() refuses a string, a number or one item for its list arguments, naming
        the argument, before anything runs."""
        options.setdefault("seeds", [0])
        with pytest.raises(ConfigurationError, match=message) as info:
            compare(SMALL, SMALL, day=30, **options)  # type: ignore[arg-type]
        assert info.value.subject == "compare"

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"level": 1.5}, "level: must be between 0 and 1"),
            ({"level": "0.9"}, "level: must be a number, got str"),
            ({"metric": "actives"}, "metric: unknown metric 'actives'"),
            ({"day": 30.5}, "day: must be an int, got 30.5"),
            ({"day": True}, "day: must be an int, got True"),
            ({"seeds": []}, "seeds: must name at least one seed"),
            ({"b": "B"}, "b: must be a Simulation, got str"),
        ],
    )
    def test_checked_before_any_run(self, options: dict[str, object], message: str) -> None:
        """compare() checks every argument, naming it, before running either
        configuration (a misspelt metric used to surface after the whole experiment)."""

        def no_run(seed: int) -> Store:
            pytest.fail("a run started")

        arguments: dict[str, object] = {"b": SMALL, "seeds": [0], "day": 30, **options}
        with pytest.raises(ConfigurationError, match=message) as info:
            compare(SMALL, store=no_run, **arguments)  # type: ignore[arg-type]
        assert info.value.subject == "compare"


class TestRunMany:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"seeds": "12"}, "seeds: must be a collection of ints .* not str"),
            ({"seeds": [True]}, "seeds: must be ints, got True"),
            ({"seeds": [0], "badges": "first-post"}, "badges: must be a list of badge ids"),
            ({"seeds": [0], "rules": {"id": "p"}}, "rules: must be a list of PointRules"),
        ],
    )
    def test_list_arguments_checked(self, options: dict[str, object], message: str) -> None:
        """run_many() refuses a string or a mapping for its list arguments, naming them."""
        with pytest.raises(ConfigurationError, match=message) as info:
            run_many(SMALL, **options)  # type: ignore[arg-type]
        assert info.value.subject == "run_many"


class TestCharts:
    def test_report_png(self, reports: tuple[HealthReport, ...], tmp_path: Path) -> None:
        """A report draws as a PNG, written to the given path too."""
        path = tmp_path / "report.png"
        data = reports[0].plot(path)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert path.read_bytes() == data

    def test_comparison_png(self) -> None:
        """A comparison draws as a PNG."""
        assert compare(SMALL, VISIBLE, seeds=[0], day=30).plot().startswith(b"\x89PNG")

    def test_active_comparison_on_the_last_day_png(self) -> None:
        """A comparison of the active share on the last day of a run whose days are a
        multiple of 7 (compared in the last week) draws as a PNG."""
        fortnight = Simulation(population=Population(people=60, teams=2), days=14)
        result = compare(fortnight, fortnight, seeds=[0], day=14, metric="active")
        assert result.plot().startswith(b"\x89PNG")

    def test_missing_matplotlib_names_the_extra(
        self, reports: tuple[HealthReport, ...], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without matplotlib, drawing raises MissingDependencyError naming the extra."""
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
        with pytest.raises(MissingDependencyError, match=r'pip install "e2badges\[matplotlib\]"'):
            reports[0].plot()


TINY = Simulation(population=Population(people=60, teams=2), adoption=Bass(p=0.02, q=0.2), days=21)
TINY_VISIBLE = Simulation(
    population=TINY.population,
    adoption=TINY.adoption,
    days=TINY.days,
    feedback=FeedbackLoops(leaderboards=True),
)


@pytest.fixture(params=["memory", "sqlite"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/shared.db"
    store = store_from_url(url)
    yield store
    store.close()


class TestSharedStore:
    def test_run_many_runs_as_on_fresh_stores(self, shared_store: Store) -> None:
        """Runs sharing one store report what they would on fresh stores: no state (such
        as a first-time bonus already given) leaks from one seed's run into the next."""
        rules = [
            PointRule(id="post", kind="post.created", actor_points=10, first_time_bonus=50),
            PointRule(id="comment", kind="comment.created", actor_points=2),
        ]
        simulation = Simulation(
            population=Population(people=150, teams=3), adoption=Bass(p=0.02, q=0.2), days=30
        )
        shared = run_many(simulation, seeds=[1, 2, 3], store=shared_store, rules=rules)
        fresh = run_many(simulation, seeds=[1, 2, 3], rules=rules)
        assert [r.to_json() for r in shared] == [r.to_json() for r in fresh]

    def test_each_run_has_its_own_tenant(self, shared_store: Store) -> None:
        """On a shared store each run records into tenant sim-<label>-<seed>, left there to
        inspect; characters a tenant name may not hold become '_'."""
        reports = run_many(TINY, seeds=[4, 5], store=shared_store, label="rules v2")
        for seed, report in zip([4, 5], reports, strict=True):
            tenant = shared_store.for_tenant(f"sim-rules_v2-{seed}")
            assert tenant.count_activities() > 0
            assert report.organisation.adopters == len({a.actor for a in tenant.iter_activities()})
        assert shared_store.count_activities() == 0

    def test_compare_runs_as_on_fresh_stores(self, shared_store: Store) -> None:
        """compare() on one store gives the comparison it gives on fresh stores."""
        shared = compare(TINY, TINY_VISIBLE, seeds=[1, 2], day=14, store=shared_store)
        fresh = compare(TINY, TINY_VISIBLE, seeds=[1, 2], day=14)
        assert shared.to_json() == fresh.to_json()
        assert shared_store.for_tenant("sim-A-1").count_activities() > 0
        assert shared_store.for_tenant("sim-B-1").count_activities() > 0

    def test_compare_on_a_url(self, tmp_path: Path) -> None:
        """compare() given a URL opens it once, records each run into its own tenant."""
        url = f"sqlite:///{tmp_path}/url.db"
        result = compare(TINY, TINY_VISIBLE, seeds=[1], day=14, store=url)
        assert result.to_json() == compare(TINY, TINY_VISIBLE, seeds=[1], day=14).to_json()
        store = store_from_url(url)
        try:
            assert store.for_tenant("sim-B-1").count_activities() > 0
        finally:
            store.close()

    def test_used_tenant_refused_before_anything_runs(self, shared_store: Store) -> None:
        """A second comparison into the same tenants is refused, naming store, before
        either configuration records anything."""
        compare(TINY, TINY, seeds=[1], day=7, labels=("x", "y"), store=shared_store)
        shared_store.for_tenant("sim-x-1").delete_tenant()
        with pytest.raises(ConfigurationError, match="store: tenant 'sim-y-1'") as info:
            compare(TINY, TINY, seeds=[1], day=7, labels=("x", "y"), store=shared_store)
        assert info.value.subject == "compare"
        assert shared_store.for_tenant("sim-x-1").count_activities() == 0

    def test_labels_naming_the_same_tenants_refused(self, shared_store: Store) -> None:
        """Two labels that make the same tenant names are refused on a shared store."""
        with pytest.raises(ConfigurationError, match="labels: 'a b' and 'a_b' name the same"):
            compare(TINY, TINY, seeds=[1], day=7, labels=("a b", "a_b"), store=shared_store)
        assert shared_store.tenants() == []

    def test_function_returning_used_storage_refused(self, tmp_path: Path) -> None:
        """A function of the seed returning storage that already holds activities is
        refused, naming store, instead of mixing runs."""
        url = f"sqlite:///{tmp_path}/same.db"
        run_many(TINY, seeds=[1], store=lambda seed: url)
        with pytest.raises(ConfigurationError, match="store: the store for seed 1 already"):
            run_many(TINY, seeds=[1], store=lambda seed: url)

    def test_single_tenant_store_refused(self) -> None:
        """A store serving one tenant cannot be shared by runs: refused, naming store."""

        class OneTenant(MemoryStore):
            def for_tenant(self, tenant: str) -> MemoryStore:
                raise NotImplementedError("one tenant")

        with pytest.raises(ConfigurationError, match="store: OneTenant serves one tenant"):
            run_many(TINY, seeds=[1], store=OneTenant())
