"""The check hook: let an activity pass, enrich it, or refuse it, before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from plugin_helpers import Recorder, act, rewards_with

from e2badges import (
    Activity,
    ActivityRefusedError,
    ConflictingActivityError,
    InvalidActivityError,
    PluginError,
    PluginState,
    Refusal,
    UnknownKindError,
    hookimpl,
)


class Check:
    """A check plugin that returns what ``decide`` returns for each activity."""

    def __init__(self, name: str, decide: Any) -> None:
        self.name = name
        self.decide = decide
        self.seen: list[str] = []

    @hookimpl
    def e2badges_check_activity(
        self, activity: Activity, state: PluginState
    ) -> Activity | Refusal | None:
        self.seen.append(activity.id)
        result: Activity | Refusal | None = self.decide(activity, state)
        return result


def no_eve(activity: Activity, state: PluginState) -> Refusal | None:
    return Refusal("eve is suspended") if activity.actor == "eve" else None


def add_team(activity: Activity, state: PluginState) -> Activity:
    return activity.model_copy(update={"teams": ("sales",)})


@pytest.mark.hook("e2badges_check_activity")
class TestPassAndRefuse:
    def test_none_passes(self) -> None:
        """Returning None records the activity unchanged."""
        check = Check("noop", lambda a, s: None)
        rewards = rewards_with(check)
        rewards.record(act(1))
        assert rewards.activity("a1") == act(1)
        assert (check.seen, rewards.balance("ann")) == (["a1"], 2)

    def test_refusal(self) -> None:
        """A Refusal raises ActivityRefusedError naming the plugin and reason; nothing is
        stored."""
        rewards = rewards_with(Check("suspensions", no_eve))
        with pytest.raises(ActivityRefusedError) as info:
            rewards.record(act(1, actor="eve"))
        error = info.value
        assert (error.activity_id, error.plugin, error.reason) == (
            "a1",
            "suspensions",
            "eve is suspended",
        )
        assert str(error) == "activity 'a1' refused by plugin 'suspensions': eve is suspended"
        assert isinstance(error, ValueError)
        assert rewards.activity("a1") is None
        assert rewards.balance("eve") == 0

    def test_refusal_refuses_the_batch(self) -> None:
        """One refused activity stores none of its batch, and no notification."""
        recorder = Recorder()
        rewards = rewards_with(Check("suspensions", no_eve), recorder)
        with pytest.raises(ActivityRefusedError):
            rewards.record_many([act(1), act(2, actor="eve"), act(3)])
        assert [rewards.activity(f"a{n}") for n in (1, 2, 3)] == [None, None, None]
        assert rewards.store.count_activities() == 0
        assert recorder.calls == []
        assert rewards.store.get_notification("recorded:a1") is None

    def test_first_refusal_stops_the_chain(self) -> None:
        """After a refusal, later plugins are not called."""
        later = Check("later", lambda a, s: None)
        rewards = rewards_with(Check("first", no_eve), later)
        with pytest.raises(ActivityRefusedError, match="plugin 'first'"):
            rewards.record(act(1, actor="eve"))
        assert later.seen == []

    def test_exception_propagates_and_stores_nothing(self) -> None:
        """An exception raised by a check hook reaches the caller; nothing is stored."""

        def crash(activity: Activity, state: PluginState) -> None:
            raise TimeoutError("fraud service")

        rewards = rewards_with(Check("fraud", crash))
        with pytest.raises(TimeoutError, match="fraud service"):
            rewards.record(act(1))
        assert rewards.activity("a1") is None

    def test_retry_is_not_checked_again(self) -> None:
        """An activity id already recorded is not checked again when retried."""
        check = Check("noop", lambda a, s: None)
        rewards = rewards_with(check)
        rewards.record(act(1))
        rewards.record_many([act(1), act(2)])
        assert check.seen == ["a1", "a2"]


@pytest.mark.hook("e2badges_check_activity")
class TestEnrich:
    def test_replacement_recorded(self) -> None:
        """A returned Activity is recorded (and evaluated) instead of the one given."""
        rewards = rewards_with(Check("teams", add_team))
        rewards.record(act(1))
        stored = rewards.activity("a1")
        assert stored is not None
        assert stored.teams == ("sales",)

    def test_chain_sees_previous_result(self) -> None:
        """Each plugin receives the activity the previous one returned."""
        saw: list[tuple[str, ...]] = []

        def look(activity: Activity, state: PluginState) -> None:
            saw.append(activity.teams)

        rewards = rewards_with(Check("teams", add_team), Check("look", look))
        rewards.record(act(1))
        assert saw == [("sales",)]

    def test_zero_rated(self) -> None:
        """A plugin can change the value a rule computes points from."""

        def zero(activity: Activity, state: PluginState) -> Activity:
            return activity.model_copy(update={"value": 0.0})

        rewards = rewards_with(Check("zero", zero))
        outcome = rewards.record(act(1, kind="rating.given", recipient="bob", value=5))
        assert outcome.credited("bob") == 0

    def test_retry_of_enriched_is_a_duplicate(self) -> None:
        """Re-sending an enriched activity as first submitted is a duplicate, not a conflict."""
        rewards = rewards_with(Check("teams", add_team))
        first = rewards.record(act(1))
        assert rewards.record(act(1)) == first
        assert rewards.record_many([act(2), act(2)])[0] == rewards.outcome("a2")
        assert rewards.store.count_activities() == 2

    def test_conflict_still_detected(self) -> None:
        """Re-sending an enriched activity's id with other content is still a conflict."""
        rewards = rewards_with(Check("teams", add_team))
        rewards.record(act(1))
        with pytest.raises(ConflictingActivityError) as info:
            rewards.record(act(1, object="post-9"))
        assert info.value.differing == ["object"]

    def test_retry_after_restart_is_a_duplicate(self) -> None:
        """The submitted form survives in the store: another Rewards without the plugin
        recognises the retry."""
        rewards = rewards_with(Check("teams", add_team))
        first = rewards.record(act(1))
        again = rewards_with(store=rewards.store)
        assert again.record(act(1)) == first

    def test_replacement_validated(self) -> None:
        """A replacement is validated as an activity; invalid content is a PluginError."""

        def bad(activity: Activity, state: PluginState) -> Activity:
            return activity.model_copy(update={"teams": ("x", "x")})

        rewards = rewards_with(Check("bad", bad))
        with pytest.raises(PluginError, match=r"plugin 'bad'.*invalid activity.*team twice"):
            rewards.record(act(1))

    def test_replacement_kind_checked(self) -> None:
        """A replacement of an undeclared kind is refused like any activity."""

        def rekind(activity: Activity, state: PluginState) -> Activity:
            return activity.model_copy(update={"kind": "nothing.known"})

        rewards = rewards_with(Check("rekind", rekind))
        with pytest.raises(UnknownKindError):
            rewards.record(act(1))
        assert rewards.activity("a1") is None

    @pytest.mark.parametrize("field", ["id", "at"])
    def test_id_and_at_kept(self, field: str) -> None:
        """A replacement must keep the activity's id and time."""
        other = act(9)

        def change(activity: Activity, state: PluginState) -> Activity:
            return activity.model_copy(update={field: getattr(other, field)})

        rewards = rewards_with(Check("mover", change))
        with pytest.raises(PluginError, match="must keep its id and at"):
            rewards.record(act(1))

    def test_same_instant_in_another_zone_is_kept(self) -> None:
        """A replacement that gives the same instant in UTC keeps its time, also in the
        hour a DST change repeats (where == across zones is False)."""
        at = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin"))

        def to_utc(activity: Activity, state: PluginState) -> Activity:
            assert activity.at is not None
            return activity.model_copy(update={"at": activity.at.astimezone(UTC)})

        rewards = rewards_with(Check("utc", to_utc))
        rewards.record(Activity(id="a1", actor="ann", kind="comment.created", at=at))
        stored = rewards.activity("a1")
        assert stored is not None
        assert stored.at is not None
        assert stored.at.timestamp() == at.timestamp()

    def test_wrong_return_type(self) -> None:
        """Returning something other than None, an Activity or a Refusal is a PluginError."""
        rewards = rewards_with(Check("odd", lambda a, s: "no"))
        with pytest.raises(PluginError, match="returned a str"):
            rewards.record(act(1))

    def test_refusal_needs_reason(self) -> None:
        """A Refusal without a reason is a PluginError."""
        rewards = rewards_with(Check("mute", lambda a, s: Refusal("")))
        with pytest.raises(PluginError, match="a Refusal needs a reason"):
            rewards.record(act(1))

    def test_invalid_input_refused_before_checks(self) -> None:
        """Invalid input is refused before any check hook runs."""
        check = Check("noop", lambda a, s: None)
        rewards = rewards_with(check)
        with pytest.raises(InvalidActivityError):
            rewards.record({"actor": "ann", "kind": "comment.created", "value": "x"})
        assert check.seen == []


@pytest.mark.hook("e2badges_check_activity")
class TestPluginState:
    def test_state_persists_across_batches(self) -> None:
        """A plugin's state is committed with the batch and read back by later activities."""

        def count(activity: Activity, state: PluginState) -> Activity:
            n = state.get("count", 0) + 1
            state.set("count", n)
            return activity.model_copy(update={"attributes": {"n": n}})

        rewards = rewards_with(Check("counter", count))
        rewards.record_many([act(1), act(2)])
        rewards.record(act(3))
        assert [rewards.activity(f"a{i}").attributes["n"] for i in (1, 2, 3)] == [1, 2, 3]  # type: ignore[union-attr]

    def test_state_discarded_with_refused_batch(self) -> None:
        """State written while checking a refused batch is discarded."""

        def count_then_refuse(activity: Activity, state: PluginState) -> Refusal | None:
            state.set("count", state.get("count", 0) + 1)
            return Refusal("no") if activity.actor == "eve" else None

        rewards = rewards_with(Check("counter", count_then_refuse))
        rewards.record(act(1))
        with pytest.raises(ActivityRefusedError):
            rewards.record_many([act(2), act(3, actor="eve")])
        rewards.record(act(4))
        assert rewards.store.read_state(["plg\x1fcounter\x1fcount"]) == {
            "plg\x1fcounter\x1fcount": 2
        }

    def test_state_is_per_plugin(self) -> None:
        """Two plugins using the same key do not see each other's values."""
        values: list[Any] = []

        def write(activity: Activity, state: PluginState) -> None:
            state.set("key", "mine")

        def read(activity: Activity, state: PluginState) -> None:
            values.append(state.get("key"))

        rewards = rewards_with(Check("writer", write), Check("reader", read))
        rewards.record(act(1))
        assert values == [None]
