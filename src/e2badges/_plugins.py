"""The plugin manager of one Rewards instance: loading, contributions, the check chain.

Each :class:`~e2badges.Rewards` owns a :class:`Plugins` (never a module
global): plugins found through the ``e2badges`` entry-point group and those
passed as ``plugins=[...]`` are registered, checked against the hookspecs
(``check_pending()``, so a misspelt hook fails at once), and asked for their
contributions.  Hooks are called one implementation at a time, so that every
result, refusal and failure is attributed to the plugin that produced it.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from ._errors import ActivityRefusedError, ConfigurationError, InvalidActivityError, PluginError
from ._hooktypes import SEP, PluginState, Refusal
from ._models import Activity, ActivityKind, check_identifier, same_instant
from ._rules import PointRule
from ._state import StateView

__all__ = ["APPLICATION", "ENTRY_POINT_GROUP", "Contributions", "Plugins", "plugin_name"]

ENTRY_POINT_GROUP = "e2badges"
#: The owner named in errors for what the application itself declared.
APPLICATION = "the application"

HOOKS: tuple[str, ...] = tuple(name for name in hookspecs.__all__ if name.startswith("e2badges_"))
NOTIFY_HOOKS: tuple[str, ...] = tuple(h for h in HOOKS if h.startswith("e2badges_notify_"))
CHECK_HOOK = "e2badges_check_activity"


@functools.cache
def _entry_points() -> tuple[EntryPoint, ...]:
    # Scanning installed distributions takes milliseconds; do it once per process.
    return tuple(sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name))


def plugin_name(plugin: object) -> str:
    """Return the name a plugin object is registered under.

    Its ``name`` attribute when that is a string, else a module's ``__name__``,
    else ``module.Class`` of its class.
    """
    name = getattr(plugin, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    cls = type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


class _Impl:
    """One plugin's implementation of one hook, ready to call."""

    __slots__ = ("argnames", "function", "plugin")

    def __init__(self, impl: pluggy.HookImpl) -> None:
        self.plugin: str = impl.plugin_name
        self.function: Callable[..., Any] = impl.function
        self.argnames: tuple[str, ...] = tuple(impl.argnames)

    def call(self, kwargs: Mapping[str, Any]) -> Any:
        """Call the implementation with the arguments it takes from ``kwargs``."""
        return self.function(*[kwargs[name] for name in self.argnames])


class Contributions:
    """What the application and the plugins declared, with who declared each item."""

    def __init__(self) -> None:
        self.rules: dict[str, tuple[PointRule, str]] = {}
        self.kinds: dict[str, tuple[ActivityKind, str]] = {}
        self.criteria: dict[str, tuple[Any, str]] = {}
        self.metrics: dict[str, tuple[Any, str]] = {}


class Plugins:
    """The plugins of one Rewards instance and the hooks they implement.

    ``manager`` is the pluggy PluginManager; ``criteria`` and ``metrics`` map
    the names plugins contributed to their criterion kinds and metrics.
    """

    def __init__(self, plugins: Sequence[object] = (), *, load_entrypoints: bool = True) -> None:
        if isinstance(plugins, str | bytes) or not isinstance(plugins, Iterable):
            raise ConfigurationError("plugins", "must be a list of plugins", subject="Rewards")
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self._origins: dict[str, str] = {}
        explicit: list[tuple[str, object]] = []
        if not isinstance(load_entrypoints, bool):
            raise ConfigurationError(
                "load_entrypoints",
                f"must be True or False, not {type(load_entrypoints).__name__}",
                subject="Rewards",
            )
        for plugin in plugins:
            if plugin is None or isinstance(plugin, bool | int | float | complex | str | bytes):
                raise ConfigurationError(
                    "plugins",
                    f"{plugin!r} is not a plugin: pass objects (or modules) with hook "
                    "implementations",
                    subject="Rewards",
                )
            if inspect.isclass(plugin):
                raise ConfigurationError(
                    "plugins",
                    f"{plugin.__qualname__} is a class; pass an instance of it",
                    subject="Rewards",
                )
            explicit.append((plugin_name(plugin), plugin))
        given = {name for name, _ in explicit}
        # pluggy calls the plugin registered last first: register in reverse so that
        # explicit plugins are called in list order, then installed ones by name.
        if load_entrypoints:
            for ep in reversed(_entry_points()):
                # A plugin passed explicitly replaces the one of the same name found
                # installed: that is how an installed plugin gets its configuration.
                if ep.name not in given:
                    self._load(ep)
        for name, plugin in reversed(explicit):
            self._register(name, plugin, f"plugin {name!r}")
        self._check_pending()
        self._impls: dict[str, tuple[_Impl, ...]] = {}
        for hook in HOOKS:
            impls = getattr(self.manager.hook, hook).get_hookimpls()
            for impl in impls:
                if impl.hookwrapper or impl.wrapper:
                    raise ConfigurationError(
                        hook,
                        "wrappers are not supported by e2badges hooks",
                        subject=f"plugin {impl.plugin_name!r}",
                    )
            if hook in NOTIFY_HOOKS:
                _check_once_per_plugin(hook, impls)
            # pluggy calls the last of get_hookimpls() first.
            self._impls[hook] = tuple(_Impl(impl) for impl in reversed(impls))
        self.criteria: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}

    # -- loading ---------------------------------------------------------------------

    def _load(self, ep: EntryPoint) -> None:
        origin = f"entry point {ep.name!r} ({ep.value})"
        if ep.name in self._origins:
            raise ConfigurationError(
                "plugins",
                f"two installed plugins are named {ep.name!r}: {self._origins[ep.name]} "
                f"and {origin}",
                subject="Rewards",
            )
        try:
            obj: Any = ep.load()
            # A class or a function is a factory: called with no arguments, it returns
            # the plugin, or None to stay inactive (for instance when not configured).
            if inspect.isclass(obj) or inspect.isfunction(obj):
                obj = obj()
        except Exception as exc:
            raise ConfigurationError(
                "plugins", f"{origin} failed to load: {exc!r}", subject="Rewards"
            ) from exc
        if obj is not None:
            self._register(ep.name, obj, origin)

    def _register(self, name: str, plugin: object, origin: str) -> None:
        try:
            check_identifier(name)
        except ValueError as exc:
            raise ConfigurationError("name", f"plugin name {exc}", subject=origin) from None
        if name in self._origins:
            raise ConfigurationError(
                "plugins",
                f"two plugins are named {name!r}: {self._origins[name]} and {origin}; "
                "give one a different `name` attribute",
                subject="Rewards",
            )
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise ConfigurationError(
                "plugins", _one_line(str(exc)), subject=f"plugin {name!r}"
            ) from exc
        self._origins[name] = origin

    def _check_pending(self) -> None:
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.manager.get_name(exc.plugin) or repr(exc.plugin)
            relay = self.manager.hook
            unknown = [
                hook
                for hook in dir(relay)
                if not hook.startswith("_")
                and not getattr(relay, hook).has_spec()
                and any(i.plugin is exc.plugin for i in getattr(relay, hook).get_hookimpls())
            ]
            hook = unknown[0] if unknown else "?"
            close = difflib.get_close_matches(hook, HOOKS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(
                hook, f"no such hook{hint}", subject=f"plugin {name!r}"
            ) from exc

    # -- what is registered ----------------------------------------------------------

    def names(self) -> list[str]:
        """Return the names of the registered plugins, in call order.

        That is the order of ``plugins=[...]``, then installed plugins by name
        (``tryfirst`` and ``trylast`` implementations move within each hook).
        """
        return list(reversed(self._origins))

    def get(self, name: str) -> object | None:
        """Return the plugin registered under ``name``, or None."""
        plugin: object | None = self.manager.get_plugin(name)
        return plugin

    def implementers(self, hook: str) -> tuple[str, ...]:
        """Return the names of the plugins implementing ``hook``, in call order."""
        return tuple(impl.plugin for impl in self._impls[hook])

    def impls(self, hook: str) -> tuple[_Impl, ...]:
        """Return the implementations of ``hook``, in call order (none for an unknown hook)."""
        return self._impls.get(hook, ())

    @property
    def checking(self) -> bool:
        """Whether any plugin implements the check hook."""
        return bool(self._impls[CHECK_HOOK])

    def notify_hooks(self) -> tuple[str, ...]:
        """Return the notification hooks that at least one plugin implements."""
        return tuple(hook for hook in NOTIFY_HOOKS if self._impls[hook])

    # -- contributions ---------------------------------------------------------------

    def contribute(
        self,
        *,
        rules: Sequence[PointRule],
        kinds: Iterable[ActivityKind | str] | None,
        accept_any_kind: bool,
    ) -> tuple[list[PointRule], list[ActivityKind | str] | None, list[ActivityKind]]:
        """Return the rules and kinds for the engine.

        That is the application's rules, then the plugins'; the application's
        kinds (None when it declared none: the engine then declares what the
        rules, badges and boards listen to); and the kinds the plugins declare
        that the application did not, which the engine declares in either case.
        Raises ConfigurationError naming both owners when a plugin registers a
        rule id, criterion or metric name that is already taken, or declares a
        kind that the application or another plugin declared differently.
        """
        c = Contributions()
        # The application's own duplicates are the engine's to report; only plugin
        # contributions are checked against what came before them here.
        for rule in rules:
            if isinstance(rule, PointRule):
                c.rules.setdefault(rule.id, (rule, APPLICATION))
        app_kinds = None if kinds is None else list(kinds)
        for app_kind in app_kinds or ():
            declared = (
                app_kind if isinstance(app_kind, ActivityKind) else ActivityKind(name=app_kind)
            )
            c.kinds.setdefault(declared.name, (declared, APPLICATION))
        app_rules = list(rules)
        plugin_rules: list[PointRule] = []
        plugin_kinds: list[ActivityKind] = []

        for impl in self._impls["e2badges_add_point_rules"]:
            owner = impl.plugin

            def add_rule(rule: PointRule, *, _owner: str = owner) -> None:
                if not isinstance(rule, PointRule):
                    raise ConfigurationError(
                        "register",
                        f"expected a PointRule, got {type(rule).__name__}",
                        subject=f"plugin {_owner!r}",
                    )
                seen = c.rules.get(rule.id)
                if seen is not None:
                    raise ConfigurationError(
                        "id",
                        f"rule id {rule.id!r} is registered by {_describe(_owner)} and "
                        f"already by {_describe(seen[1])}",
                        subject=f"plugin {_owner!r}",
                    )
                c.rules[rule.id] = (rule, _owner)
                plugin_rules.append(rule)

            self._contribute(impl, "e2badges_add_point_rules", add_rule)

        for impl in self._impls["e2badges_add_activity_kinds"]:
            owner = impl.plugin

            def add_kind(kind: ActivityKind | str, *, _owner: str = owner) -> None:
                if isinstance(kind, str):
                    kind = ActivityKind(name=kind)
                elif not isinstance(kind, ActivityKind):
                    raise ConfigurationError(
                        "register",
                        f"expected an ActivityKind or a kind name, got {type(kind).__name__}",
                        subject=f"plugin {_owner!r}",
                    )
                seen = c.kinds.get(kind.name)
                if seen is not None:
                    if seen[0] == kind:
                        return
                    raise ConfigurationError(
                        "kinds",
                        f"kind {kind.name!r} is declared differently by {_describe(_owner)} "
                        f"and by {_describe(seen[1])}",
                        subject=f"plugin {_owner!r}",
                    )
                c.kinds[kind.name] = (kind, _owner)
                plugin_kinds.append(kind)

            self._contribute(impl, "e2badges_add_activity_kinds", add_kind)

        for hook, table in (
            ("e2badges_add_criterion_kinds", c.criteria),
            ("e2badges_add_metrics", c.metrics),
        ):
            what = "criterion kind" if table is c.criteria else "metric"
            for impl in self._impls[hook]:
                owner = impl.plugin

                def add_named(
                    name: str,
                    item: Any,
                    *,
                    _owner: str = owner,
                    _table: dict[str, tuple[Any, str]] = table,
                    _what: str = what,
                ) -> None:
                    try:
                        check_identifier(name)
                    except (ValueError, TypeError) as exc:
                        raise ConfigurationError(
                            "name", f"{_what} name {exc}", subject=f"plugin {_owner!r}"
                        ) from None
                    seen = _table.get(name)
                    if seen is not None:
                        raise ConfigurationError(
                            "name",
                            f"{_what} {name!r} is registered by {_describe(_owner)} and "
                            f"already by {_describe(seen[1])}",
                            subject=f"plugin {_owner!r}",
                        )
                    _table[name] = (item, _owner)

                self._contribute(impl, hook, add_named)

        self.criteria = {name: item for name, (item, _) in c.criteria.items()}
        self.metrics = {name: item for name, (item, _) in c.metrics.items()}

        if app_kinds is not None and not accept_any_kind:
            for rule in plugin_rules:
                if rule.kind not in c.kinds:
                    raise ConfigurationError(
                        "kind",
                        f"listens to undeclared activity kind {rule.kind!r}",
                        subject=f"rule {rule.id!r} of plugin {c.rules[rule.id][1]!r}",
                    )
        return app_rules + plugin_rules, app_kinds, plugin_kinds

    @staticmethod
    def _contribute(impl: _Impl, hook: str, register: Callable[..., None]) -> None:
        try:
            impl.call({"register": register})
        except ConfigurationError:
            raise
        except Exception as exc:
            raise PluginError(impl.plugin, hook, f"raised {exc!r}") from exc

    # -- the check chain -------------------------------------------------------------

    def check(self, activity: Activity, view: StateView) -> Activity:
        """Run the check chain over a new activity; return the activity to record.

        Raises ActivityRefusedError at the first refusal, PluginError when a
        plugin returns something else than None, an Activity with the same id
        and time, or a Refusal.  When the chain replaced the activity, the fields
        it changed are kept in the state (with the batch) so that a retry of
        the original is recognised as the same activity.
        """
        current = activity
        for impl in self._impls[CHECK_HOOK]:
            try:
                result = impl.function(
                    *[
                        current if name == "activity" else PluginState(view, impl.plugin)
                        for name in impl.argnames
                    ]
                )
            except InvalidActivityError as exc:
                # Activity.model_copy(update=...) validates: the plugin built an invalid one.
                raise PluginError(
                    impl.plugin, CHECK_HOOK, f"made an invalid activity: {exc}"
                ) from None
            if result is None or result is current:
                continue
            if isinstance(result, Refusal):
                if not isinstance(result.reason, str) or not result.reason:
                    raise PluginError(impl.plugin, CHECK_HOOK, "a Refusal needs a reason")
                raise ActivityRefusedError(activity.id, impl.plugin, result.reason)
            if not isinstance(result, Activity):
                raise PluginError(
                    impl.plugin,
                    CHECK_HOOK,
                    f"returned a {type(result).__name__}; expected None, an Activity or a Refusal",
                )
            if result.id != current.id or not same_instant(result.at, current.at):
                raise PluginError(
                    impl.plugin, CHECK_HOOK, "a replacement activity must keep its id and at"
                )
            # Activity.model_construct() skips validation; validate what will be stored.
            try:
                current = Activity(**result.model_dump())
            except ValueError as exc:
                raise PluginError(
                    impl.plugin, CHECK_HOOK, f"returned an invalid activity: {exc}"
                ) from None
        if current is not activity:
            changed = [
                name
                for name in Activity.model_fields
                if getattr(current, name) != getattr(activity, name)
            ]
            if changed:
                view.set(
                    _submitted_key(activity.id),
                    activity.model_dump(mode="json", include=set(changed)),
                )
        return current

    @staticmethod
    def submitted(stored: Activity, view: StateView) -> Activity:
        """Return the activity as it was submitted, before the check chain replaced it."""
        original = view.get(_submitted_key(stored.id), None)
        if original is None:
            return stored
        return Activity(**{**stored.model_dump(), **original})

    def __repr__(self) -> str:
        return f"Plugins({self.names()!r})"


def _check_once_per_plugin(hook: str, impls: Sequence[pluggy.HookImpl]) -> None:
    """Refuse a plugin implementing a notification hook more than once.

    A notification's delivery is recorded per plugin (delivered, failures), so
    one plugin can receive it only once: two implementations of the hook in one
    plugin (``@hookimpl(specname=...)``) cannot each be delivered to and retried.
    """
    seen: dict[str, str] = {}
    for impl in impls:
        function = getattr(impl.function, "__name__", repr(impl.function))
        first = seen.get(impl.plugin_name)
        if first is not None:
            raise ConfigurationError(
                hook,
                f"implemented twice ({first} and {function}); a plugin receives each "
                "notification once: implement the hook once, or make two plugins",
                subject=f"plugin {impl.plugin_name!r}",
            )
        seen[impl.plugin_name] = function


def _one_line(text: str) -> str:
    """Return pluggy's text (several lines: the hook, the definition, the reason) as one
    line, so that an error's message stays one line, safe to log."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _submitted_key(activity_id: str) -> str:
    return f"sub{SEP}{activity_id}"


def _describe(owner: str) -> str:
    return owner if owner == APPLICATION else f"plugin {owner!r}"
