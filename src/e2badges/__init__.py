"""e2badges: feedback-loop rewards for internal apps.

Record what people do; get points, badges, levels, leaderboards, a feed of
stories and adoption figures that everyone can see.

Names are imported on first use (PEP 562), so that ``import e2badges`` (and the
pytest plugin, which pytest loads in every project that installs e2badges) costs
next to nothing until the library is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:
    from . import criteria as criteria
    from ._adoption import AdoptionReport as AdoptionReport
    from ._adoption import Change as Change
    from ._adoption import Cohort as Cohort
    from ._adoption import KeptGoing as KeptGoing
    from ._badges import GRANT_KIND as GRANT_KIND
    from ._badges import REVOKE_KIND as REVOKE_KIND
    from ._badges import Badge as Badge
    from ._badges import Tier as Tier
    from ._board_view import LeaderboardView as LeaderboardView
    from ._callouts import CALLOUT_KINDS as CALLOUT_KINDS
    from ._callouts import CALLOUTS as CALLOUTS
    from ._clock import Clock as Clock
    from ._clock import FrozenClock as FrozenClock
    from ._clock import SystemClock as SystemClock
    from ._delivery import DeliveryFailure as DeliveryFailure
    from ._delivery import DeliveryPolicy as DeliveryPolicy
    from ._delivery import DeliveryReport as DeliveryReport
    from ._errors import ActivityRefusedError as ActivityRefusedError
    from ._errors import ConfigurationError as ConfigurationError
    from ._errors import ConflictingActivityError as ConflictingActivityError
    from ._errors import E2BadgesError as E2BadgesError
    from ._errors import InvalidActivityError as InvalidActivityError
    from ._errors import InvalidPersonError as InvalidPersonError
    from ._errors import InvalidQueryError as InvalidQueryError
    from ._errors import MissingDependencyError as MissingDependencyError
    from ._errors import PluginError as PluginError
    from ._errors import RankingsDisabledError as RankingsDisabledError
    from ._errors import SchemaVersionError as SchemaVersionError
    from ._errors import StorageError as StorageError
    from ._errors import TransientStorageError as TransientStorageError
    from ._errors import UnknownBadgeError as UnknownBadgeError
    from ._errors import UnknownKindError as UnknownKindError
    from ._errors import UnknownLeaderboardError as UnknownLeaderboardError
    from ._errors import UnknownStoreError as UnknownStoreError
    from ._hooktypes import PluginState as PluginState
    from ._hooktypes import Refusal as Refusal
    from ._leaderboards import AverageMetric as AverageMetric
    from ._leaderboards import CountMetric as CountMetric
    from ._leaderboards import EveryoneScope as EveryoneScope
    from ._leaderboards import Leaderboard as Leaderboard
    from ._leaderboards import LeaderboardEntry as LeaderboardEntry
    from ._leaderboards import PluginMetric as PluginMetric
    from ._leaderboards import PointsMetric as PointsMetric
    from ._leaderboards import SumMetric as SumMetric
    from ._leaderboards import TeamScope as TeamScope
    from ._leaderboards import TeamsScope as TeamsScope
    from ._levels import Level as Level
    from ._levels import LevelStatus as LevelStatus
    from ._limits import MAX_ATTRIBUTES_BYTES as MAX_ATTRIBUTES_BYTES
    from ._limits import MAX_ATTRIBUTES_DEPTH as MAX_ATTRIBUTES_DEPTH
    from ._limits import MAX_COUNT as MAX_COUNT
    from ._limits import MAX_IDENTIFIER_LENGTH as MAX_IDENTIFIER_LENGTH
    from ._limits import MAX_KIND_LENGTH as MAX_KIND_LENGTH
    from ._limits import MAX_TEAMS as MAX_TEAMS
    from ._limits import MAX_VALUE as MAX_VALUE
    from ._models import Activity as Activity
    from ._models import ActivityKind as ActivityKind
    from ._models import Award as Award
    from ._models import AwardRecord as AwardRecord
    from ._models import LedgerEntry as LedgerEntry
    from ._models import LevelChange as LevelChange
    from ._models import Outcome as Outcome
    from ._models import Revocation as Revocation
    from ._models import Story as Story
    from ._people import DisplayPolicy as DisplayPolicy
    from ._people import Membership as Membership
    from ._people import People as People
    from ._people import Person as Person
    from ._people import PrivacySettings as PrivacySettings
    from ._plugins import Plugins as Plugins
    from ._profile import BadgeProgress as BadgeProgress
    from ._profile import Profile as Profile
    from ._rewards import Rewards as Rewards
    from ._rules import Cap as Cap
    from ._rules import PointRule as PointRule
    from ._stories import StoryOptions as StoryOptions
    from .hookspecs import hookimpl as hookimpl

# Public name -> (module, attribute), imported when first asked for.
_LAZY: dict[str, tuple[str, str]] = {
    "AdoptionReport": ("._adoption", "AdoptionReport"),
    "Change": ("._adoption", "Change"),
    "Cohort": ("._adoption", "Cohort"),
    "KeptGoing": ("._adoption", "KeptGoing"),
    "CALLOUT_KINDS": ("._callouts", "CALLOUT_KINDS"),
    "CALLOUTS": ("._callouts", "CALLOUTS"),
    "MAX_ATTRIBUTES_BYTES": ("._limits", "MAX_ATTRIBUTES_BYTES"),
    "MAX_ATTRIBUTES_DEPTH": ("._limits", "MAX_ATTRIBUTES_DEPTH"),
    "MAX_COUNT": ("._limits", "MAX_COUNT"),
    "MAX_IDENTIFIER_LENGTH": ("._limits", "MAX_IDENTIFIER_LENGTH"),
    "MAX_KIND_LENGTH": ("._limits", "MAX_KIND_LENGTH"),
    "MAX_TEAMS": ("._limits", "MAX_TEAMS"),
    "MAX_VALUE": ("._limits", "MAX_VALUE"),
    "Story": ("._models", "Story"),
    "StoryOptions": ("._stories", "StoryOptions"),
    "Activity": ("._models", "Activity"),
    "ActivityKind": ("._models", "ActivityKind"),
    "ActivityRefusedError": ("._errors", "ActivityRefusedError"),
    "AverageMetric": ("._leaderboards", "AverageMetric"),
    "Award": ("._models", "Award"),
    "AwardRecord": ("._models", "AwardRecord"),
    "Badge": ("._badges", "Badge"),
    "BadgeProgress": ("._profile", "BadgeProgress"),
    "Cap": ("._rules", "Cap"),
    "Clock": ("._clock", "Clock"),
    "ConfigurationError": ("._errors", "ConfigurationError"),
    "ConflictingActivityError": ("._errors", "ConflictingActivityError"),
    "CountMetric": ("._leaderboards", "CountMetric"),
    "DeliveryFailure": ("._delivery", "DeliveryFailure"),
    "DeliveryPolicy": ("._delivery", "DeliveryPolicy"),
    "DeliveryReport": ("._delivery", "DeliveryReport"),
    "E2BadgesError": ("._errors", "E2BadgesError"),
    "EveryoneScope": ("._leaderboards", "EveryoneScope"),
    "FrozenClock": ("._clock", "FrozenClock"),
    "GRANT_KIND": ("._badges", "GRANT_KIND"),
    "InvalidActivityError": ("._errors", "InvalidActivityError"),
    "InvalidPersonError": ("._errors", "InvalidPersonError"),
    "DisplayPolicy": ("._people", "DisplayPolicy"),
    "Membership": ("._people", "Membership"),
    "People": ("._people", "People"),
    "Person": ("._people", "Person"),
    "PrivacySettings": ("._people", "PrivacySettings"),
    "RankingsDisabledError": ("._errors", "RankingsDisabledError"),
    "InvalidQueryError": ("._errors", "InvalidQueryError"),
    "Leaderboard": ("._leaderboards", "Leaderboard"),
    "LeaderboardEntry": ("._leaderboards", "LeaderboardEntry"),
    "LeaderboardView": ("._board_view", "LeaderboardView"),
    "LedgerEntry": ("._models", "LedgerEntry"),
    "Level": ("._levels", "Level"),
    "LevelChange": ("._models", "LevelChange"),
    "LevelStatus": ("._levels", "LevelStatus"),
    "MissingDependencyError": ("._errors", "MissingDependencyError"),
    "Outcome": ("._models", "Outcome"),
    "PluginError": ("._errors", "PluginError"),
    "PluginState": ("._hooktypes", "PluginState"),
    "Plugins": ("._plugins", "Plugins"),
    "PointRule": ("._rules", "PointRule"),
    "PluginMetric": ("._leaderboards", "PluginMetric"),
    "PointsMetric": ("._leaderboards", "PointsMetric"),
    "Profile": ("._profile", "Profile"),
    "REVOKE_KIND": ("._badges", "REVOKE_KIND"),
    "Refusal": ("._hooktypes", "Refusal"),
    "Revocation": ("._models", "Revocation"),
    "Rewards": ("._rewards", "Rewards"),
    "SchemaVersionError": ("._errors", "SchemaVersionError"),
    "StorageError": ("._errors", "StorageError"),
    "SumMetric": ("._leaderboards", "SumMetric"),
    "SystemClock": ("._clock", "SystemClock"),
    "TeamScope": ("._leaderboards", "TeamScope"),
    "TeamsScope": ("._leaderboards", "TeamsScope"),
    "Tier": ("._badges", "Tier"),
    "TransientStorageError": ("._errors", "TransientStorageError"),
    "UnknownBadgeError": ("._errors", "UnknownBadgeError"),
    "UnknownKindError": ("._errors", "UnknownKindError"),
    "UnknownLeaderboardError": ("._errors", "UnknownLeaderboardError"),
    "UnknownStoreError": ("._errors", "UnknownStoreError"),
    "criteria": (".", "criteria"),
    "hookimpl": (".hookspecs", "hookimpl"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = target
    if module_name == ".":  # a submodule (e2badges.criteria)
        value: Any = importlib.import_module(f".{attribute}", __name__)
    else:
        value = getattr(importlib.import_module(module_name, __name__), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "CALLOUTS",
    "CALLOUT_KINDS",
    "GRANT_KIND",
    "MAX_ATTRIBUTES_BYTES",
    "MAX_ATTRIBUTES_DEPTH",
    "MAX_COUNT",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_KIND_LENGTH",
    "MAX_TEAMS",
    "MAX_VALUE",
    "REVOKE_KIND",
    "Activity",
    "ActivityKind",
    "ActivityRefusedError",
    "AdoptionReport",
    "AverageMetric",
    "Award",
    "AwardRecord",
    "Badge",
    "BadgeProgress",
    "Cap",
    "Change",
    "Clock",
    "Cohort",
    "ConfigurationError",
    "ConflictingActivityError",
    "CountMetric",
    "DeliveryFailure",
    "DeliveryPolicy",
    "DeliveryReport",
    "DisplayPolicy",
    "E2BadgesError",
    "EveryoneScope",
    "FrozenClock",
    "InvalidActivityError",
    "InvalidPersonError",
    "InvalidQueryError",
    "KeptGoing",
    "Leaderboard",
    "LeaderboardEntry",
    "LeaderboardView",
    "LedgerEntry",
    "Level",
    "LevelChange",
    "LevelStatus",
    "Membership",
    "MissingDependencyError",
    "Outcome",
    "People",
    "Person",
    "PluginError",
    "PluginMetric",
    "PluginState",
    "Plugins",
    "PointRule",
    "PointsMetric",
    "PrivacySettings",
    "Profile",
    "RankingsDisabledError",
    "Refusal",
    "Revocation",
    "Rewards",
    "SchemaVersionError",
    "StorageError",
    "Story",
    "StoryOptions",
    "SumMetric",
    "SystemClock",
    "TeamScope",
    "TeamsScope",
    "Tier",
    "TransientStorageError",
    "UnknownBadgeError",
    "UnknownKindError",
    "UnknownLeaderboardError",
    "UnknownStoreError",
    "__version__",
    "criteria",
    "hookimpl",
]
