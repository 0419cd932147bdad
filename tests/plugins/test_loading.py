"""Loading plugins: explicit objects, entry points, names, order, and early failures."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from plugin_helpers import RULES, Recorder, act, rewards_with

import e2badges._plugins
from e2badges import (
    Activity,
    ConfigurationError,
    PluginState,
    Refusal,
    Rewards,
    hookimpl,
)
from e2badges.storage import MemoryStore


def tag(activity: Activity, name: str) -> Activity:
    """Return ``activity`` with ``name`` appended to ``attributes["seen"]``."""
    seen = [*activity.attributes.get("seen", []), name]
    return activity.model_copy(update={"attributes": {"seen": seen}})


class Tagger:
    """A check-hook plugin that appends its name to ``attributes["seen"]``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def e2badges_check_activity(self, activity: Activity) -> Activity:
        return tag(activity, self.name)


class FirstTagger(Tagger):
    @hookimpl(tryfirst=True)
    def e2badges_check_activity(self, activity: Activity) -> Activity:
        return tag(activity, self.name)


class LastTagger(Tagger):
    @hookimpl(trylast=True)
    def e2badges_check_activity(self, activity: Activity) -> Activity:
        return tag(activity, self.name)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Fake installed distributions: map entry-point names to the objects they load."""
    objects: dict[str, object] = {}
    module = types.ModuleType("fake_e2badges_plugins")
    monkeypatch.setitem(sys.modules, module.__name__, module)

    def entry_points() -> tuple[EntryPoint, ...]:
        for name, obj in objects.items():
            setattr(module, name, obj)
        return tuple(
            EntryPoint(name=name, value=f"{module.__name__}:{name}", group="e2badges")
            for name in sorted(objects)
        )

    monkeypatch.setattr(e2badges._plugins, "_entry_points", entry_points)
    return objects


def seen(rewards: Rewards, n: int = 1) -> list[str]:
    """Record activity ``a<n>`` and return the order in which check hooks saw it."""
    rewards.record(act(n))
    stored = rewards.activity(f"a{n}")
    assert stored is not None
    return list(stored.attributes["seen"])


class TestExplicitPlugins:
    def test_plugins_called_in_list_order(self) -> None:
        """Plugins passed in ``plugins=[...]`` are called in list order."""
        rewards = rewards_with(Tagger("one"), Tagger("two"), Tagger("three"))
        assert rewards.plugins.names() == ["one", "two", "three"]
        assert seen(rewards) == ["one", "two", "three"]

    def test_tryfirst_and_trylast(self) -> None:
        """``tryfirst`` implementations come before all others and ``trylast`` after them."""
        rewards = rewards_with(LastTagger("last"), Tagger("plain"), FirstTagger("first"))
        assert seen(rewards) == ["first", "plain", "last"]

    def test_module_plugin(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A module with hook functions is a plugin named after the module."""
        module = types.ModuleType("my_company.rewards_plugin")

        @hookimpl
        def e2badges_check_activity(activity: Activity) -> Refusal | None:
            return Refusal("closed today") if activity.actor == "eve" else None

        module.e2badges_check_activity = e2badges_check_activity  # type: ignore[attr-defined]
        rewards = rewards_with(module)
        assert rewards.plugins.names() == ["my_company.rewards_plugin"]
        assert rewards.plugins.get("my_company.rewards_plugin") is module

    def test_module_plugin_name_attribute(self, installed: dict[str, object]) -> None:
        """A module's ``name`` attribute names it, so it replaces the installed plugin.

        The attribute was ignored for modules: the module was registered under its
        module name, next to the installed plugin it was meant to replace.
        """
        module = types.ModuleType("my_company.lenient_guard")
        module.name = "guard"  # type: ignore[attr-defined]
        module.e2badges_check_activity = hookimpl(  # type: ignore[attr-defined]
            lambda activity: None
        )
        installed["guard"] = Tagger("guard")
        rewards = Rewards(plugins=[module])
        assert rewards.plugins.names() == ["guard"]
        assert rewards.plugins.get("guard") is module

    def test_name_defaults_to_class(self) -> None:
        """An object without a ``name`` attribute is named after its module and class."""

        class Quiet:
            @hookimpl
            def e2badges_check_activity(self) -> None:
                return None

        rewards = rewards_with(Quiet())
        assert rewards.plugins.names() == [f"{__name__}.{Quiet.__qualname__}"]

    def test_class_refused(self) -> None:
        """Passing a plugin class instead of an instance is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="Recorder is a class; pass an instance"):
            rewards_with(Recorder)

    def test_same_name_twice_refused(self) -> None:
        """Two plugins with one name are refused, naming the name."""
        with pytest.raises(ConfigurationError, match="two plugins are named 'recorder'"):
            rewards_with(Recorder(), Recorder())

    def test_invalid_name_refused(self) -> None:
        """A plugin name with a control character is refused."""
        with pytest.raises(ConfigurationError, match="plugin name contains the control"):
            rewards_with(Recorder("bad\x1fname"))

    def test_not_a_list_refused(self) -> None:
        """``plugins`` must be a list of plugins, not a single string."""
        with pytest.raises(ConfigurationError, match="plugins: must be a list"):
            Rewards(plugins="webhook", load_entrypoints=False)  # type: ignore[arg-type]


class TestValidation:
    def test_misspelt_hook_fails_at_load(self) -> None:
        """A misspelt hook fails when the Rewards is built, naming the plugin and a suggestion."""

        class Typo:
            name = "typo"

            @hookimpl
            def e2badges_notify_awrd(self, award: object) -> None:
                """Misspelt on purpose."""

        with pytest.raises(ConfigurationError) as info:
            rewards_with(Typo())
        message = str(info.value)
        assert "plugin 'typo'" in message
        assert (
            "e2badges_notify_awrd: no such hook; did you mean 'e2badges_notify_award'?" in message
        )

    def test_unprefixed_hook_fails_at_load(self) -> None:
        """A marked method that is named after no hook at all fails at load, naming it."""

        class Bare:
            name = "bare"

            @hookimpl
            def notify_award(self, award: object) -> None:
                """Lacks the e2badges_ prefix."""

        with pytest.raises(ConfigurationError, match="plugin 'bare': notify_award: no such hook"):
            rewards_with(Bare())

    def test_unknown_argument_fails_at_load(self) -> None:
        """An implementation taking an argument its hook does not have fails at load,
        with a one-line message naming the plugin, the hook and the argument."""

        class Wrong:
            name = "wrong"

            @hookimpl
            def e2badges_notify_award(self, badge: object) -> None:
                """Takes ``badge``; the hook passes ``award``."""

        with pytest.raises(ConfigurationError, match=r"plugin 'wrong'.*badge") as info:
            rewards_with(Wrong())
        message = str(info.value)
        assert "e2badges_notify_award" in message
        assert message.splitlines() == [message]

    def test_wrappers_refused(self) -> None:
        """Hook wrappers are refused: e2badges calls each implementation on its own."""

        class Wrapper:
            name = "wrapper"

            @hookimpl(wrapper=True)
            def e2badges_check_activity(self, activity: Activity) -> Any:
                return (yield)

        with pytest.raises(ConfigurationError, match="wrappers are not supported"):
            rewards_with(Wrapper())

    def test_notify_hook_implemented_twice_refused(self) -> None:
        """A plugin implementing one notification hook twice is refused, naming both.

        Deliveries are recorded per plugin, so only one of the two could be
        delivered to: one was called twice per notification and the other never.
        """

        class TwoWays:
            name = "two"

            @hookimpl(specname="e2badges_notify_outcome")
            def to_chat(self, notification_id: str) -> None:
                raise AssertionError("not called")

            @hookimpl(specname="e2badges_notify_outcome")
            def to_mail(self, notification_id: str) -> None:
                raise AssertionError("not called")

        with pytest.raises(ConfigurationError) as info:
            rewards_with(TwoWays())
        assert info.value.subject == "plugin 'two'"
        assert info.value.field == "e2badges_notify_outcome"
        assert "implemented twice (to_chat and to_mail)" in info.value.reason

    def test_unmarked_methods_ignored(self) -> None:
        """Methods without ``@hookimpl`` are not hooks, whatever their name."""

        class Unmarked:
            name = "unmarked"

            def e2badges_check_activity(self, activity: Activity) -> Refusal:
                return Refusal("never called")

        rewards = rewards_with(Unmarked())
        rewards.record(act(1))
        assert rewards.balance("ann") == 2


class TestEntryPoints:
    def test_installed_plugin_loaded(self, installed: dict[str, object]) -> None:
        """Plugins of the ``e2badges`` entry-point group are loaded under their entry point's
        name."""
        recorder = Recorder()
        installed["chat"] = recorder
        rewards = Rewards(rules=RULES)
        assert rewards.plugins.names() == ["chat"]
        rewards.record(act(1))
        assert recorder.hooks() == ["outcome"]

    def test_load_entrypoints_false(self, installed: dict[str, object]) -> None:
        """``load_entrypoints=False`` loads no installed plugin."""
        installed["chat"] = Recorder()
        assert Rewards(rules=RULES, load_entrypoints=False).plugins.names() == []

    def test_factory_called(self, installed: dict[str, object]) -> None:
        """An entry point naming a class or function is called to build the plugin, per Rewards."""
        built: list[Recorder] = []

        def factory() -> Recorder:
            built.append(Recorder())
            return built[-1]

        installed["chat"] = factory
        first, second = Rewards(rules=RULES), Rewards(rules=RULES)
        assert [first.plugins.get("chat"), second.plugins.get("chat")] == built
        assert built[0] is not built[1]

    def test_factory_returning_none(self, installed: dict[str, object]) -> None:
        """A factory that returns None (not configured) registers nothing."""
        installed["chat"] = lambda: None
        assert Rewards(rules=RULES).plugins.names() == []

    def test_explicit_replaces_installed(self, installed: dict[str, object]) -> None:
        """A plugin passed explicitly replaces the installed plugin of the same name."""
        installed["recorder"] = Recorder()
        mine = Recorder()
        rewards = Rewards(rules=RULES, plugins=[mine])
        assert rewards.plugins.names() == ["recorder"]
        assert rewards.plugins.get("recorder") is mine

    def test_installed_after_explicit_by_name(self, installed: dict[str, object]) -> None:
        """Installed plugins are called after the explicit ones, by name."""
        installed["zeta"] = Tagger("zeta")
        installed["alpha"] = Tagger("alpha")
        rewards = Rewards(rules=RULES, plugins=[Tagger("mine")])
        assert rewards.plugins.names() == ["mine", "alpha", "zeta"]
        assert seen(rewards) == ["mine", "alpha", "zeta"]

    def test_broken_entry_point(self, installed: dict[str, object]) -> None:
        """An entry point that fails to load fails the build, naming the entry point."""

        def broken() -> None:
            raise ImportError("no module named 'requests'")

        installed["broken"] = broken
        with pytest.raises(ConfigurationError, match=r"entry point 'broken'.*failed to load"):
            Rewards(rules=RULES)

    def test_misspelt_hook_in_installed_plugin(self, installed: dict[str, object]) -> None:
        """A misspelt hook in an installed plugin fails at load too."""
        module = types.ModuleType("typo_plugin")
        module.e2badges_check_activty = hookimpl(lambda activity: None)  # type: ignore[attr-defined]
        installed["typo"] = module
        with pytest.raises(ConfigurationError, match="did you mean 'e2badges_check_activity'"):
            Rewards(rules=RULES)


class TestStoreSupport:
    def test_notifier_needs_an_outbox(self) -> None:
        """A notification plugin over a store without an outbox is refused at build time."""

        class NoOutbox(MemoryStore):
            keeps_outbox = False

        with pytest.raises(ConfigurationError, match="need a store that keeps an outbox"):
            Rewards(NoOutbox(), rules=RULES, plugins=[Recorder()], load_entrypoints=False)

    def test_check_plugin_needs_no_outbox(self) -> None:
        """Plugins without notification hooks work over a store without an outbox."""

        class NoOutbox(MemoryStore):
            keeps_outbox = False

        class Passing:
            name = "passing"

            @hookimpl
            def e2badges_check_activity(self, state: PluginState) -> None:
                state.set("calls", state.get("calls", 0) + 1)

        rewards = Rewards(NoOutbox(), rules=RULES, plugins=[Passing()], load_entrypoints=False)
        rewards.record(act(1))
        assert rewards.balance("ann") == 2
