"""The plugin contract: every hook e2badges calls, when, and how results combine.

A plugin is a module or an object whose functions (or methods) are marked with
:data:`hookimpl` and named after a hook below.  An implementation may take any
subset of the hook's arguments, by name; e2badges may add arguments to a hook
later without breaking plugins that do not take them.

Three families:

* **Contribution hooks** (``e2badges_add_*``) are called once, when a
  :class:`~e2badges.Rewards` instance is built, with a ``register`` callback.
  Every implementation is called; return values are ignored.
* **The check hook** (``e2badges_check_activity``) is called for every new
  activity, inside the recording transaction, before its effects are computed.
  Implementations are called in turn, each seeing the activity the previous one
  returned; the first refusal stops the chain.
* **Notification hooks** (``e2badges_notify_*``) are called after the commit,
  once per plugin and event, through the outbox.  Every implementation is
  called; return values are ignored; an exception is logged, reported and
  retried later, and never reaches the code that recorded the activity.

Implementations are called in this order: the plugins passed to
``Rewards(plugins=[...])`` in list order, then the installed plugins (found
through entry points) by name; an implementation marked
``@hookimpl(tryfirst=True)`` comes before all others and one marked
``trylast=True`` after them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pluggy

from ._hooktypes import PluginState, Refusal
from ._models import Activity, ActivityKind, Award, LevelChange, Outcome, Revocation
from ._rules import PointRule

__all__ = [
    "PROJECT",
    "RegisterCriterion",
    "RegisterKind",
    "RegisterMetric",
    "RegisterRule",
    "e2badges_add_activity_kinds",
    "e2badges_add_criterion_kinds",
    "e2badges_add_metrics",
    "e2badges_add_point_rules",
    "e2badges_check_activity",
    "e2badges_notify_award",
    "e2badges_notify_level_change",
    "e2badges_notify_outcome",
    "e2badges_notify_period_close",
    "e2badges_notify_revocation",
    "hookimpl",
    "hookspec",
]

PROJECT = "e2badges"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a function or method as the implementation of the e2badges hook of its name.
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterRule = Callable[[PointRule], None]
RegisterKind = Callable[[ActivityKind | str], None]
RegisterCriterion = Callable[[str, Any], None]
RegisterMetric = Callable[[str, Any], None]


# -- contributions: called once, when a Rewards instance is built ------------------------


@hookspec
def e2badges_add_point_rules(register: RegisterRule) -> None:
    """Contribute point rules: call ``register(rule)`` with each :class:`~e2badges.PointRule`.

    Called once per Rewards instance, before its engine is built; every
    implementation is called and return values are ignored.  A rule id that the
    application or another plugin already registered is refused with a
    ConfigurationError naming both.
    """


@hookspec
def e2badges_add_activity_kinds(register: RegisterKind) -> None:
    """Declare activity kinds: call ``register(kind)`` with an ActivityKind or a kind name.

    Called once per Rewards instance; every implementation is called and return
    values are ignored.  The same declaration from several owners (the
    application's ``kinds=`` included) is accepted (a kind is shared
    vocabulary); two different declarations of one name are refused with a
    ConfigurationError naming both owners.
    """


@hookspec
def e2badges_add_criterion_kinds(register: RegisterCriterion) -> None:
    """Contribute badge criterion kinds: call ``register(name, criterion)`` for each.

    ``criterion`` is a ready criterion (``criteria.Count(...)``) or a function of
    keyword options returning one.  A badge uses it as
    ``criteria.Plugin(name=..., options={...})``; when the Rewards instance is
    built the contribution takes its place and the badge is checked again.
    Called once per Rewards instance; every implementation is called and return
    values are ignored.  The contributions are listed in
    ``rewards.plugins.criteria``.  A name registered twice is refused with a
    ConfigurationError naming both owners.
    """


@hookspec
def e2badges_add_metrics(register: RegisterMetric) -> None:
    """Contribute leaderboard metrics: call ``register(name, metric)`` for each.

    ``metric`` is a ready metric (``CountMetric(...)``) or a function of keyword
    options returning one.  A leaderboard uses it as
    ``PluginMetric(name=..., options={...})``; when the Rewards instance is built
    the contribution takes its place and the board is checked again.  Called
    once per Rewards instance; every implementation is called and return values
    are ignored.  The contributions are listed in ``rewards.plugins.metrics``.
    A name registered twice is refused with a ConfigurationError naming both
    owners.
    """


# -- before recording: inside the transaction, before effects are computed ---------------


@hookspec
def e2badges_check_activity(activity: Activity, state: PluginState) -> Activity | Refusal | None:
    """Check a new activity before it is recorded: let it pass, enrich it, or refuse it.

    Called for every activity not recorded before (a retried id is not checked
    again), inside the recording transaction, after validation and before its
    effects are computed; ``activity.at`` is filled.  Return None to let the
    activity pass unchanged, a replacement Activity (same ``id`` and ``at``) to
    record instead, or a :class:`~e2badges.Refusal` to refuse it.

    Implementations are called in turn, each receiving the activity the
    previous one returned; the first Refusal stops the chain and the batch is
    refused with ActivityRefusedError naming the plugin, before anything is
    written.  An exception raised here propagates to the caller of ``record()``,
    and nothing is stored; an InvalidActivityError (from ``model_copy(update=...)``
    with an invalid value) becomes a PluginError naming the plugin.  ``state`` is
    the plugin's own state, written with the batch.  Keep this hook fast: it runs
    while the store's transaction is open.
    """


# -- after the commit: delivered through the outbox ------------------------------------


@hookspec
def e2badges_notify_outcome(activity: Activity, outcome: Outcome, notification_id: str) -> None:
    """Tell about an activity that was recorded, with its :class:`~e2badges.Outcome`.

    Called after the commit, once per plugin for each newly recorded activity;
    every implementation is called and return values are ignored.  An exception
    is logged and reported and the delivery to that plugin retried later; it
    never reaches ``record()`` and never stops delivery to other plugins.
    ``notification_id`` is the same on every retry, for receivers that deduplicate.
    """


@hookspec
def e2badges_notify_award(award: Award, notification_id: str) -> None:
    """Tell about a badge (tier) awarded to a person.

    Called after the commit that stored the award, once per plugin and award;
    every implementation is called and return values are ignored.  An exception
    is logged and reported and the delivery to that plugin retried later; the
    award stays stored and the other plugins still receive it.
    """


@hookspec
def e2badges_notify_revocation(revocation: Revocation, notification_id: str) -> None:
    """Tell about a badge (tier) taken back from a person, by whom and why.

    Called after the commit that stored the revocation, once per plugin and
    revocation; every implementation is called and return values are ignored.
    Exceptions are handled as for ``e2badges_notify_award``.
    """


@hookspec
def e2badges_notify_level_change(change: LevelChange, notification_id: str) -> None:
    """Tell about a person whose level changed (``change.old`` to ``change.new``).

    Called after the commit that stored the change, once per plugin and change;
    every implementation is called and return values are ignored.  Exceptions
    are handled as for ``e2badges_notify_award``.
    """


@hookspec
def e2badges_notify_period_close(
    board: str,
    period: str,
    standings: Sequence[Mapping[str, Any]],
    notification_id: str,
) -> None:
    """Tell about a leaderboard period that closed, with its final standings.

    ``board`` is the leaderboard's id, ``period`` the closed period's label
    (``2026-W02``), ``standings`` the final places, best first, each a mapping
    with ``rank``, ``user`` and ``score``: for "winner of the week" rewards.
    Each call gets its own copy of ``standings`` (a list of dicts): a plugin that
    changes it changes nothing another plugin, a retry or the outbox sees.
    Called after the commit that closed the period, once per plugin; every
    implementation is called and return values are ignored.  Exceptions are
    handled as for ``e2badges_notify_award``.
    """
